//! Fuzz body for the relay protocol's JSON text frames (see
//! `relay-protocol.md`), which both the page and the relay read from the
//! other side of a WebSocket.

use crate::relay_protocol::{ConnectQuery, PageMessage, RelayMessage};

/// Any text frame: what parses writes back as JSON that parses to the
/// same message.
pub fn relay_protocol(data: &[u8]) {
    if let Ok(message) = serde_json::from_slice::<RelayMessage>(data) {
        let again: RelayMessage =
            serde_json::from_str(&message.to_json()).expect("written JSON parses");
        // NaN times are not equal to themselves; compare the text instead.
        assert_eq!(again.to_json(), message.to_json());
    }
    if let Ok(message) = serde_json::from_slice::<PageMessage>(data) {
        let again: PageMessage =
            serde_json::from_str(&message.to_json()).expect("written JSON parses");
        assert_eq!(again, message);
    }
    if let Ok(query) = serde_json::from_slice::<ConnectQuery>(data) {
        let _ = query.to_query_string();
    }
}
