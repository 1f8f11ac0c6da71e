//! The shape of a line protocol's client engine (SMTP's, POP3's): bytes
//! from the server are kept until a whole reply is there, each reply is
//! parsed and handed to the protocol in turn, and a reply that cannot be
//! framed or parsed closes the connection (the peer is not speaking the
//! protocol). [`feed_replies`] is that loop, once; a client says how its
//! replies are framed and what it does with each ([`LineClient`]).

use super::outbox::Outbox;
use crate::framing::LineTooLong;

/// Bytes from the server not yet a whole reply.
#[derive(Debug, Default)]
pub struct ReplyInput {
    buffer: Vec<u8>,
    /// How far the framer already searched `buffer` for a reply's end
    /// (POP3's multi-line replies can be long), so it does not start over.
    scanned: usize,
}

impl ReplyInput {
    /// The next whole reply, as `frame` finds its length.
    fn next_reply<F>(&mut self, frame: F) -> Result<Option<Vec<u8>>, LineTooLong>
    where
        F: FnOnce(&[u8], &mut usize) -> Result<Option<usize>, LineTooLong>,
    {
        let Some(len) = frame(&self.buffer, &mut self.scanned)? else {
            return Ok(None);
        };
        self.scanned = 0;
        Ok(Some(self.buffer.drain(..len).collect()))
    }
}

/// What one protocol's client engine says for [`feed_replies`].
pub trait LineClient {
    type Event;
    type Reply;
    /// What framing and parsing the next reply depend on (POP3: whether
    /// the command it answers gets a multi-line reply).
    type Framing: Copy;

    fn outbox(&mut self) -> &mut Outbox<Self::Event>;
    fn input(&mut self) -> &mut ReplyInput;
    fn framing(&self) -> Self::Framing;
    /// The length of the whole reply at the front of `buf`, `None` while
    /// it is incomplete; `scanned` is the framer's to resume its search.
    fn frame(
        buf: &[u8],
        scanned: &mut usize,
        framing: Self::Framing,
    ) -> Result<Option<usize>, LineTooLong>;
    fn parse(raw: &[u8], framing: Self::Framing) -> Option<Self::Reply>;
    /// A reply came: answer it (the next command, an event, closing).
    fn on_reply(&mut self, reply: Self::Reply);
    /// Closes the connection (once; the engine says its last state).
    fn close(&mut self);
}

/// Bytes from the server: every whole reply in them, in turn, until the
/// client closes; a reply that cannot be framed or parsed closes it.
pub fn feed_replies<C: LineClient>(client: &mut C, bytes: &[u8]) {
    if client.outbox().is_closed() {
        return;
    }
    client.input().buffer.extend_from_slice(bytes);
    while !client.outbox().is_closed() {
        let framing = client.framing();
        let next = client
            .input()
            .next_reply(|buf, scanned| C::frame(buf, scanned, framing));
        match next.map(|raw| raw.map(|raw| C::parse(&raw, framing))) {
            Ok(Some(Some(reply))) => client.on_reply(reply),
            Ok(None) => return,
            Ok(Some(None)) | Err(_) => client.close(),
        }
    }
}
