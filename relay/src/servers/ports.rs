//! Ports for servers configured with port 0 that need more than one
//! socket on the same number (the DNS servers: UDP and TCP on every
//! address) or a run of numbers (FTP's passive ports), so that a single
//! `bind(0)` cannot choose for them.
//!
//! Candidates are drawn at random from below the system's ephemeral range.
//! Ports there are never handed to outgoing connections, so the TIME_WAIT
//! sockets a busy machine (or a long test run) leaves behind, which hold
//! their ports against a later `bind`, do not get in the way; and relays
//! started side by side (tests) rarely try the same numbers.

use anyhow::{Result, bail};

/// The lowest port handed out: clear of the well-known ports and the
/// registered services most machines run.
const LOWEST: u16 = 10_000;

/// Random first ports for a block of `count` consecutive ports, endless;
/// the caller tries them (binding checks they are free) and gives up after
/// as many as it likes.
pub fn candidate_blocks(count: u16) -> Result<impl Iterator<Item = u16>> {
    let (low, high) = search_range(ephemeral_port_start(), count);
    if count == 0 || high < low {
        bail!("a block of {count} ports does not fit between {low} and 65535");
    }
    let span = u32::from(high - low) + 1;
    Ok(std::iter::repeat_with(move || {
        let mut random = [0u8; 4];
        // Without a random source, walk the range from a fixed point.
        let _ = getrandom::fill(&mut random);
        let offset = u32::from_le_bytes(random) % span;
        low + u16::try_from(offset).expect("the span fits in a port number")
    }))
}

/// The first port the system uses for outgoing connections (Linux says so
/// in /proc; elsewhere the IANA dynamic range's 49152).
fn ephemeral_port_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(49_152)
}

/// The ports a block of `count` may start at: from [`LOWEST`] to just
/// below `ephemeral`, or, when the ephemeral range starts too low for
/// that, above [`LOWEST`] up to the last block that fits.
fn search_range(ephemeral: u16, count: u16) -> (u16, u16) {
    match ephemeral.checked_sub(count) {
        Some(high) if high > LOWEST => (LOWEST, high),
        _ => (LOWEST.max(ephemeral), u16::MAX.saturating_sub(count)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_drawn_below_the_ephemeral_range() {
        assert_eq!(search_range(32_768, 16), (10_000, 32_752));
        assert_eq!(search_range(49_152, 1), (10_000, 49_151));
        // An ephemeral range that starts low: search above it instead.
        assert_eq!(search_range(1_024, 16), (10_000, 65_519));
        assert_eq!(search_range(10_010, 16), (10_010, 65_519));
    }

    #[test]
    fn candidates_stay_in_range() {
        let (low, high) = search_range(ephemeral_port_start(), 16);
        for start in candidate_blocks(16).unwrap().take(1000) {
            assert!((low..=high).contains(&start), "{start}");
        }
        assert!(candidate_blocks(0).is_err());
        assert!(candidate_blocks(u16::MAX).is_err());
    }
}
