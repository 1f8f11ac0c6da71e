//! What the socket chapter's experiments show, said where they happen: a
//! TCP connection refused because nothing listens (the client started before
//! its server), and a UDP datagram that gets no answer (UDP has nothing to
//! refuse, so the sender hears silence).
//!
//! The UDP note waits [`SILENCE_MS`] after the last datagram sent, so an
//! answering server never makes it flash.

use crate::session::{ConnState, Direction, Entry};
use wirelab_shared::relay_protocol::{ErrorCode, Transport};
use yew::prelude::*;

/// How long a datagram must go unanswered before the page calls it silence.
pub const SILENCE_MS: u32 = 1_500;

/// The experiment a session's state shows, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The connect failed because the server's machine refused it.
    TcpRefused,
    /// Datagrams went out, and nothing has come back since the last one.
    UdpUnanswered,
}

impl Outcome {
    fn key(self) -> &'static str {
        match self {
            Outcome::TcpRefused => "tcp-refused",
            Outcome::UdpUnanswered => "udp-unanswered",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Outcome::TcpRefused => {
                "Refused before any byte was sent: nothing listens on that port, so the \
                 server's machine answered the connection's SYN with a RST. This is what the \
                 course's TCPClient sees when it starts before TCPServer (Python raises \
                 ConnectionRefusedError at connect)."
            }
            Outcome::UdpUnanswered => {
                "No reply. UDP sets up no connection and acknowledges nothing, so sending \
                 \"worked\" whether or not a server listens. If none does, the machine answers \
                 with an ICMP \"port unreachable\" that only a connected socket hears, on its \
                 next receive; the course's UDPClient, unconnected, waits in recvfrom forever."
            }
        }
    }
}

/// The outcome a session shows: a refused connect, or (when
/// `silence_elapsed` says the wait is over) a last datagram left unanswered.
pub fn outcome(
    state: &ConnState,
    transport: Transport,
    awaiting: bool,
    silence_elapsed: bool,
) -> Option<Outcome> {
    match state {
        ConnState::Failed {
            code: Some(ErrorCode::ConnectFailed),
            message,
        } if transport == Transport::Tcp && message.to_lowercase().contains("refused") => {
            Some(Outcome::TcpRefused)
        }
        ConnState::Open { .. } if transport == Transport::Udp && silence_elapsed => {
            awaiting.then_some(Outcome::UdpUnanswered)
        }
        _ => None,
    }
}

/// Whether the latest connection's last data entry is one sent (nothing
/// received since). Earlier connections' datagrams are another experiment.
pub fn awaiting_reply(entries: &[Entry]) -> bool {
    let Some(latest) = entries.last().map(|e| e.connection) else {
        return false;
    };
    entries
        .iter()
        .rev()
        .take_while(|e| e.connection == latest)
        .find(|e| e.direction != Direction::Event)
        .is_some_and(|e| e.direction == Direction::Sent)
}

#[derive(Properties, PartialEq)]
pub struct SocketOutcomeProps {
    pub state: ConnState,
    pub transport: Transport,
    /// The session's entry count, so the silence restarts with each entry.
    pub entry_count: usize,
    /// Whether the last data entry is one sent ([`awaiting_reply`]).
    pub awaiting: bool,
}

/// The explanation of a refused connect or an unanswered datagram.
#[function_component(SocketOutcome)]
pub fn socket_outcome(props: &SocketOutcomeProps) -> Html {
    // The number of entries when the silence timer last ran out: the note
    // shows only while nothing has been added since.
    let silent_at = use_state(|| None::<usize>);
    let count = props.entry_count;
    let waiting = props.transport == Transport::Udp && props.awaiting;
    {
        let silent_at = silent_at.clone();
        use_effect_with((count, waiting), move |&(count, waiting)| {
            let timer = waiting.then(|| {
                gloo_timers::callback::Timeout::new(SILENCE_MS, move || silent_at.set(Some(count)))
            });
            move || drop(timer)
        });
    }
    let silence_elapsed = *silent_at == Some(count);
    match outcome(
        &props.state,
        props.transport,
        props.awaiting,
        silence_elapsed,
    ) {
        Some(shown) => html! {
            <p class="notice socket-outcome" data-testid="socket-outcome" data-outcome={shown.key()}>
                { shown.explanation() }
            </p>
        },
        None => html! {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::EventKind;

    fn entry(direction: Direction) -> Entry {
        on(0, direction)
    }

    fn on(connection: usize, direction: Direction) -> Entry {
        Entry {
            id: 0,
            direction,
            t_ms: 0.0,
            connection,
            page_ms: 0.0,
            at_ms: None,
            relay_t_ms: None,
            bytes: b"x".to_vec(),
            text: String::new(),
            kind: EventKind::None,
        }
    }

    fn open(transport: Transport) -> ConnState {
        ConnState::Open {
            target: "t".into(),
            transport,
            peer: "127.0.0.1:9".into(),
            local: "127.0.0.1:5".into(),
            connect_ms: 0.1,
            write_closed: false,
            recording: None,
        }
    }

    #[test]
    fn a_refused_tcp_connect_is_explained() {
        let refused = ConnState::Failed {
            code: Some(ErrorCode::ConnectFailed),
            message: "connect to 127.0.0.1:4: Connection refused (os error 111)".into(),
        };
        assert_eq!(
            outcome(&refused, Transport::Tcp, false, false),
            Some(Outcome::TcpRefused)
        );
        // A timeout is another lesson, and not this one.
        let timed_out = ConnState::Failed {
            code: Some(ErrorCode::ConnectFailed),
            message: "connect timed out".into(),
        };
        assert_eq!(outcome(&timed_out, Transport::Tcp, false, false), None);
    }

    #[test]
    fn an_unanswered_datagram_is_explained_only_after_the_wait() {
        let sent = [entry(Direction::Event), entry(Direction::Sent)];
        let udp = open(Transport::Udp);
        assert!(awaiting_reply(&sent));
        assert_eq!(outcome(&udp, Transport::Udp, true, false), None);
        assert_eq!(
            outcome(&udp, Transport::Udp, true, true),
            Some(Outcome::UdpUnanswered)
        );
        // An answer ends the silence; TCP never shows the UDP note.
        let answered = [entry(Direction::Sent), entry(Direction::Received)];
        assert!(!awaiting_reply(&answered));
        // A new connection starts with nothing owed.
        let reconnected = [on(0, Direction::Sent), on(1, Direction::Event)];
        assert!(!awaiting_reply(&reconnected));
        assert_eq!(outcome(&udp, Transport::Udp, false, true), None);
        assert_eq!(
            outcome(&open(Transport::Tcp), Transport::Tcp, true, true),
            None
        );
    }
}
