//! When bytes reached the relay's socket, for the page's stamps: the
//! kernel's receive timestamp (`SO_TIMESTAMPNS`) where the system gives one,
//! else the moment the relay read them.
//!
//! Why the kernel's: a reference server in the same process writes a
//! transfer's `125`, its data and its `226` within microseconds, on two
//! connections the relay reads from two tasks; the order those tasks run in
//! is not the order the bytes arrived in, and a data connection taken late
//! (FTP active mode waits for the page's WebSocket) is read long after its
//! bytes came. The kernel stamps each segment as it arrives; a read returns
//! the stamp of the last segment it took.
//!
//! The caller turns stamps on once per socket ([`enable`]) and reads with
//! [`read_stamped`] instead of `read_buf`; both work on any socket tokio
//! gives it (a TCP stream, a connected UDP socket).

use std::io;
use std::time::{Instant, SystemTime};
use tokio::io::Interest;

/// What a socket needs to be read here.
pub trait StampedSocket: std::os::fd::AsFd + std::os::fd::AsRawFd {
    fn readable(&self) -> impl std::future::Future<Output = io::Result<()>>;
    fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R>;
}

impl StampedSocket for tokio::net::TcpStream {
    async fn readable(&self) -> io::Result<()> {
        tokio::net::TcpStream::readable(self).await
    }

    fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        tokio::net::TcpStream::try_io(self, Interest::READABLE, f)
    }
}

impl StampedSocket for tokio::net::UdpSocket {
    async fn readable(&self) -> io::Result<()> {
        tokio::net::UdpSocket::readable(self).await
    }

    fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        tokio::net::UdpSocket::try_io(self, Interest::READABLE, f)
    }
}

/// Asks the kernel to stamp what `socket` receives; false where it cannot
/// (the reads are then stamped when they happen, as are those that come
/// before the kernel has turned stamping on, a moment after the first
/// socket of the system asks).
pub fn enable(socket: &impl StampedSocket) -> bool {
    use nix::sys::socket::{setsockopt, sockopt::ReceiveTimestampns};
    setsockopt(socket, ReceiveTimestampns, &true).is_ok()
}

/// Reads at most `max` bytes into `buf[..n]`, returning `n` and when they
/// arrived: the kernel's stamp moved onto the monotonic clock, or now.
/// `buf` is sized to `max` once and kept so, so a read costs no fill.
pub async fn read_stamped(
    socket: &impl StampedSocket,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(usize, Instant)> {
    loop {
        socket.readable().await?;
        match socket.try_io(|| receive(socket, buf, max)) {
            Ok((n, arrived)) => return Ok((n, arrived.map_or_else(Instant::now, on_monotonic))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// One `recvmsg`: the bytes, and the kernel's stamp if it sent one.
fn receive(
    socket: &impl StampedSocket,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(usize, Option<SystemTime>)> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    use nix::sys::time::TimeSpec;
    if buf.len() != max {
        buf.clear();
        buf.resize(max, 0);
    }
    let mut control = nix::cmsg_space!(TimeSpec);
    let (n, stamp) = {
        let mut iov = [io::IoSliceMut::new(&mut buf[..])];
        let msg = recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut control),
            MsgFlags::MSG_DONTWAIT,
        )
        .map_err(io::Error::from)?;
        let stamp = msg.cmsgs().ok().and_then(|mut all| {
            all.find_map(|c| match c {
                ControlMessageOwned::ScmTimestampns(ts) => Some(ts),
                _ => None,
            })
        });
        (msg.bytes, stamp)
    };
    let arrived = stamp.and_then(|ts| {
        let since_epoch = std::time::Duration::from(ts);
        SystemTime::UNIX_EPOCH.checked_add(since_epoch)
    });
    Ok((n, arrived))
}

/// A wall-clock stamp as an `Instant`: as long before now as it was.
fn on_monotonic(arrived: SystemTime) -> Instant {
    let now = Instant::now();
    let age = SystemTime::now()
        .duration_since(arrived)
        .unwrap_or_default();
    now.checked_sub(age).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_is_stamped_when_its_bytes_arrived_not_when_it_was_read() {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut writer = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (reader, _) = listener.accept().await.unwrap();
        assert!(enable(&reader), "Linux stamps TCP receives");
        // The kernel turns stamping on for the whole system a moment after
        // the first socket asks (a deferred static key); until then reads
        // are stamped when they happen.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        writer.write_all(b"early").await.unwrap();
        let written = Instant::now();
        // Read well after the bytes came: the stamp is their arrival.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let read_at = Instant::now();
        let mut buf = Vec::new();
        let (n, arrived) = read_stamped(&reader, &mut buf, 1024).await.unwrap();
        assert_eq!((n, &buf[..n]), (5, &b"early"[..]));
        assert!(
            arrived < read_at,
            "stamped {:?} before the read",
            read_at - arrived
        );
        assert!(arrived + std::time::Duration::from_millis(100) > written);
        drop(writer);
        let (n, _) = read_stamped(&reader, &mut buf, 1024).await.unwrap();
        assert_eq!(n, 0, "end of stream");
    }
}
