//! IMAP round trips and framing: any command or response built from the
//! grammar writes to bytes that parse back to it (parse ∘ write = id), the
//! framer finds exactly its end, and every strict prefix of it is partial
//! (a synchronising literal still to come is partial too, waiting for `+`).

mod imap_strategies;

use imap_strategies::{command, response};
use proptest::prelude::*;
use wirelab_shared::imap::command::Command;
use wirelab_shared::imap::frame::{Framed, Limits, next_command, next_response};
use wirelab_shared::imap::response::Response;

proptest! {
    #[test]
    fn commands_round_trip(c in command()) {
        let bytes = c.to_bytes();
        prop_assert_eq!(Command::parse(&bytes), Ok(c));
    }

    #[test]
    fn every_strict_prefix_of_a_command_is_partial(c in command()) {
        let bytes = c.to_bytes();
        let limits = Limits::default();
        for cut in 0..bytes.len() {
            let framed = next_command(&bytes[..cut], &limits);
            prop_assert!(
                matches!(framed, Ok(Framed::Partial | Framed::AwaitingContinuation { .. })),
                "{:?} at {}", framed, cut
            );
        }
        prop_assert_eq!(next_command(&bytes, &limits), Ok(Framed::Complete(bytes.len())));
        let mut two = bytes.clone();
        two.extend_from_slice(&bytes);
        prop_assert_eq!(next_command(&two, &limits), Ok(Framed::Complete(bytes.len())));
    }

    #[test]
    fn responses_round_trip(r in response()) {
        let bytes = r.to_bytes();
        prop_assert_eq!(Response::parse(&bytes), Ok(r));
    }

    #[test]
    fn every_strict_prefix_of_a_response_is_partial(r in response()) {
        let bytes = r.to_bytes();
        let limits = Limits::default();
        for cut in 0..bytes.len() {
            prop_assert_eq!(next_response(&bytes[..cut], &limits), Ok(Framed::Partial), "at {}", cut);
        }
        prop_assert_eq!(next_response(&bytes, &limits), Ok(Framed::Complete(bytes.len())));
    }

    #[test]
    fn any_bytes_dissect_within_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        for d in [
            wirelab_shared::imap::dissect::dissect_command(&bytes),
            wirelab_shared::imap::dissect::dissect_response(&bytes),
        ] {
            prop_assert!(d.check_invariants(false).is_empty(), "{:?}", d.check_invariants(false));
        }
    }

    #[test]
    fn well_formed_messages_are_covered_byte_by_byte(c in command(), r in response()) {
        for (d, what) in [
            (wirelab_shared::imap::dissect::dissect_command(&c.to_bytes()), "command"),
            (wirelab_shared::imap::dissect::dissect_response(&r.to_bytes()), "response"),
        ] {
            prop_assert!(d.check_invariants(true).is_empty(), "{} {:?}", what, d.check_invariants(true));
            prop_assert!(d.diagnostics.iter().all(|x| x.severity != wirelab_shared::Severity::Error), "{} {:?}", what, d.diagnostics);
        }
    }
}
