//! "Talk to a peer": the student connects through the relay to one peer of
//! the running swarm, sends the 68-byte handshake with the swarm's info
//! hash, then types peer wire messages in the syntax of
//! [`wirelab_shared::bittorrent::syntax`] (`request 0 0 16384`). Every
//! message each way is framed with the shared [`WireReader`] and shown
//! dissected in the inspector, and the course's dialogue (handshake →
//! bitfield, interested → unchoke, request → piece) replays step by step,
//! each step sent once the peer has answered the one before.
//!
//! The transcript lives in the connection's [`Session`]; this page's own
//! state is the small reducer [`PeerWireLab`].

use crate::components::inspector::Inspector;
use crate::hooks::connection::{Connection, use_connection};
use crate::session::{Direction, Entry, EventKind, Session};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use wirelab_shared::bittorrent::dissect::dissect_wire;
use wirelab_shared::bittorrent::syntax::{
    Layout, caution, caution_in, parse_info_hash, parse_message, parse_peer_id,
};
use wirelab_shared::bittorrent::wire::{Frame, Handshake, WireReader, max_message_for};
use wirelab_shared::relay_protocol::ClosedBy;
use yew::prelude::*;

/// The peer id the form starts with: Azureus style, "WL" for wirelab.
pub const STUDENT_PEER_ID: &str = "-WL0001-student00001";

/// What the message picker offers, as lines of the syntax.
pub const PICKS: &[&str] = &[
    "interested",
    "not interested",
    "choke",
    "unchoke",
    "keep-alive",
    "have 0",
    "bitfield 00",
    "request 0 0 16384",
    "cancel 0 0 16384",
    "piece 0 0 hello",
    "request 0 0 32768",
];

/// The course's dialogue: what the student sends at each step (the first
/// is the handshake) and the peer's message that lets the next step go.
pub const DIALOGUE: &[(&str, &str)] = &[
    ("handshake", "bitfield"),
    ("interested", "unchoke"),
    ("request 0 0 16384", "piece"),
];

/// One framed message (or an event) of the connection, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct WireItem {
    pub direction: Direction,
    /// "handshake", "request", … or what happened for an event.
    pub name: String,
    pub bytes: Rc<Vec<u8>>,
}

/// Every message of the session's last connection, in the order they were
/// sent or arrived, and its close.
pub fn wire_items(session: &Session, pieces: usize) -> Vec<WireItem> {
    let last = session.entries.iter().map(|e| e.connection).max();
    let entries: Vec<&Entry> = session
        .entries
        .iter()
        .filter(|e| Some(e.connection) == last)
        .collect();
    frame_entries(&entries, pieces)
}

fn frame_entries(entries: &[&Entry], pieces: usize) -> Vec<WireItem> {
    let mut sent = Framer::new(pieces);
    let mut received = Framer::new(pieces);
    let mut out = Vec::new();
    for e in entries {
        match (e.direction, e.kind) {
            (Direction::Sent, _) => sent.take(Direction::Sent, &e.bytes, &mut out),
            (Direction::Received, _) => received.take(Direction::Received, &e.bytes, &mut out),
            (Direction::Event, EventKind::Closed { by }) => out.push(WireItem {
                direction: Direction::Event,
                name: match by {
                    ClosedBy::Peer => "the peer closed the connection".into(),
                    ClosedBy::Relay => format!("the relay closed the connection: {}", e.text),
                },
                bytes: Rc::default(),
            }),
            _ => {}
        }
    }
    out
}

/// One direction's bytes and where the next message starts in them.
struct Framer {
    reader: WireReader,
    /// Every byte of this direction so far, to cut each message out of.
    stream: Vec<u8>,
    broken: bool,
}

impl Framer {
    fn new(pieces: usize) -> Framer {
        Framer {
            reader: WireReader::new(max_message_for(pieces)),
            stream: Vec::new(),
            broken: false,
        }
    }

    fn take(&mut self, direction: Direction, bytes: &[u8], out: &mut Vec<WireItem>) {
        if self.broken {
            return;
        }
        self.stream.extend_from_slice(bytes);
        self.reader.push(bytes);
        loop {
            match self.reader.next_frame() {
                Ok(Some((frame, span))) => out.push(WireItem {
                    direction,
                    name: match &frame {
                        Frame::Handshake(_) => "handshake".to_string(),
                        Frame::Message(m) => m.name().to_string(),
                    },
                    bytes: Rc::new(span.slice(&self.stream).to_vec()),
                }),
                Ok(None) => break,
                Err(e) => {
                    self.broken = true;
                    let rest = self.stream.get(self.reader.offset()..).unwrap_or_default();
                    out.push(WireItem {
                        direction,
                        name: format!("not the peer wire protocol: {e}"),
                        bytes: Rc::new(rest.to_vec()),
                    });
                    break;
                }
            }
        }
    }
}

/// What the replay does after looking at the messages so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayNext {
    /// The peer has not answered the step sent yet.
    Wait,
    /// Send this step of [`DIALOGUE`].
    Send(usize),
    /// The last step has its answer.
    Done,
}

/// Where the replay goes once step `sent` has gone out and `items` are
/// the connection's messages.
pub fn next_step(sent: usize, items: &[WireItem]) -> ReplayNext {
    let Some((_, awaited)) = DIALOGUE.get(sent) else {
        return ReplayNext::Done;
    };
    let answered = items
        .iter()
        .any(|i| i.direction == Direction::Received && i.name == *awaited);
    match (answered, sent + 1 < DIALOGUE.len()) {
        (false, _) => ReplayNext::Wait,
        (true, true) => ReplayNext::Send(sent + 1),
        (true, false) => ReplayNext::Done,
    }
}

/// The bytes a line of the workbench becomes: `handshake` is the 68-byte
/// handshake with the form's info hash and peer id; anything else a
/// message of the syntax.
pub fn line_bytes(line: &str, info_hash: &str, peer_id: &str) -> Result<Vec<u8>, String> {
    if line.trim().eq_ignore_ascii_case("handshake") {
        let hash = parse_info_hash(info_hash)?;
        let id = parse_peer_id(peer_id)?;
        return Ok(Handshake::new(hash, id).encode().to_vec());
    }
    parse_message(line)
        .map(|m| m.encode())
        .map_err(|e| format!("characters {}–{}: {e}", e.span.start + 1, e.span.end))
}

/// What a peer will make of `message`: checked against the torrent's
/// pieces when `layout` is known.
fn caution_for(
    message: &wirelab_shared::bittorrent::wire::Message,
    layout: Option<&Layout>,
) -> Option<String> {
    match layout {
        Some(layout) => caution_in(message, layout),
        None => caution(message),
    }
}

/// Why the peer dropped the connection, when the student's last message
/// before the close is one a peer refuses.
pub fn drop_reason(items: &[WireItem], layout: Option<&Layout>) -> Option<String> {
    let closed = items
        .iter()
        .rposition(|i| i.direction == Direction::Event)?;
    let last_sent = items[..closed]
        .iter()
        .rev()
        .find(|i| i.direction == Direction::Sent)?;
    let body = last_sent.bytes.get(4..)?;
    let message = wirelab_shared::bittorrent::wire::Message::parse(body).ok()?;
    caution_for(&message, layout)
}

/// `127.0.2.1:40001` as host and port.
pub fn split_address(address: &str) -> Option<(&str, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// The workbench's own state (the transcript is the session's).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerWireLab {
    /// Which swarm peer to connect to (0, the seed, has every piece).
    pub peer: usize,
    pub peer_id: String,
    /// The info hash as the student edited it; the swarm's until then.
    pub info_hash: Option<String>,
    pub line: String,
    /// The message shown in the inspector; the newest when `None`.
    pub selected: Option<usize>,
    /// The dialogue step sent last, while the replay runs.
    pub replay: Option<usize>,
}

impl Default for PeerWireLab {
    fn default() -> Self {
        PeerWireLab {
            peer: 0,
            peer_id: STUDENT_PEER_ID.into(),
            info_hash: None,
            line: "interested".into(),
            selected: None,
            replay: None,
        }
    }
}

pub enum PeerWireAction {
    Peer(usize),
    PeerId(String),
    InfoHash(String),
    Line(String),
    Select(usize),
    /// A new connection: the old messages' selection is gone.
    Connected,
    Replay(Option<usize>),
}

impl Reducible for PeerWireLab {
    type Action = PeerWireAction;

    fn reduce(self: Rc<Self>, action: PeerWireAction) -> Rc<Self> {
        let mut lab = (*self).clone();
        match action {
            PeerWireAction::Peer(p) => lab.peer = p,
            PeerWireAction::PeerId(id) => lab.peer_id = id,
            PeerWireAction::InfoHash(h) => lab.info_hash = Some(h),
            PeerWireAction::Line(l) => lab.line = l,
            PeerWireAction::Select(i) => lab.selected = Some(i),
            PeerWireAction::Connected => {
                lab.selected = None;
                lab.replay = None;
            }
            PeerWireAction::Replay(step) => lab.replay = step,
        }
        Rc::new(lab)
    }
}

#[derive(Properties, PartialEq)]
pub struct PeerWireProps {
    /// Each swarm peer's address (`127.0.2.x:port`), the seed first.
    pub addresses: Vec<String>,
    /// The swarm's info hash, in hex.
    pub info_hash: AttrValue,
    pub pieces: usize,
    /// The file's and pieces' lengths, to say beforehand which requests
    /// the peer refuses.
    #[prop_or_default]
    pub layout: Option<Layout>,
}

/// Sends now if the connection is open; else connects to `address` and
/// sends once it is.
fn send_or_connect(
    conn: &Connection,
    queued: &RefCellQueue,
    address: Option<&str>,
    bytes: Vec<u8>,
) {
    if conn.session.state.can_send() {
        conn.send(&bytes);
    } else if let Some((host, port)) = address.and_then(split_address) {
        queued.borrow_mut().push(bytes);
        if !conn.session.state.is_active() {
            conn.connect_address(host, port);
        }
    }
}

type RefCellQueue = Rc<std::cell::RefCell<Vec<Vec<u8>>>>;

#[function_component(PeerWire)]
pub fn peer_wire(props: &PeerWireProps) -> Html {
    let conn = use_connection();
    let lab = use_reducer(PeerWireLab::default);
    let queued: RefCellQueue = use_mut_ref(Vec::new);
    let items = wire_items(&conn.session, props.pieces);
    let info_hash = lab
        .info_hash
        .clone()
        .unwrap_or_else(|| props.info_hash.to_string());
    let address = props.addresses.get(lab.peer).cloned();
    {
        let (conn, queued) = (conn.clone(), queued.clone());
        use_effect_with(conn.session.state.can_send(), move |open| {
            if *open {
                for bytes in queued.borrow_mut().drain(..) {
                    conn.send(&bytes);
                }
            }
        });
    }
    use_replay(&conn, &lab, &items, &info_hash);

    let bytes_of = {
        let (info_hash, peer_id) = (info_hash.clone(), lab.peer_id.clone());
        move |line: &str| line_bytes(line, &info_hash, &peer_id)
    };
    let send_line = {
        let (conn, queued, address) = (conn.clone(), queued.clone(), address.clone());
        let bytes_of = bytes_of.clone();
        move |line: &str| {
            if let Ok(bytes) = bytes_of(line) {
                send_or_connect(&conn, &queued, address.as_deref(), bytes);
            }
        }
    };
    let on_connect = {
        let (conn, address, dispatcher) = (conn.clone(), address.clone(), lab.dispatcher());
        Callback::from(move |_: MouseEvent| {
            if let Some((host, port)) = address.as_deref().and_then(split_address) {
                dispatcher.dispatch(PeerWireAction::Connected);
                conn.connect_address(host, port);
            }
        })
    };
    let on_disconnect = {
        let conn = conn.clone();
        Callback::from(move |_: MouseEvent| conn.disconnect())
    };
    let on_replay = {
        let (conn, queued, address) = (conn.clone(), queued.clone(), address.clone());
        let (dispatcher, bytes_of) = (lab.dispatcher(), bytes_of.clone());
        Callback::from(move |_: MouseEvent| {
            let (Ok(handshake), Some((host, port))) = (
                bytes_of(DIALOGUE[0].0),
                address.as_deref().and_then(split_address),
            ) else {
                return;
            };
            // Always a fresh connection, the handshake sent once it opens:
            // the dialogue starts with it, and the session seen here may
            // still say a connection being replaced is open.
            *queued.borrow_mut() = vec![handshake];
            dispatcher.dispatch(PeerWireAction::Connected);
            conn.connect_address(host, port);
            dispatcher.dispatch(PeerWireAction::Replay(Some(0)));
        })
    };
    let on_handshake = {
        let send_line = send_line.clone();
        Callback::from(move |_: MouseEvent| send_line("handshake"))
    };
    let send_typed: Rc<dyn Fn()> = {
        let (send_line, line) = (send_line.clone(), lab.line.clone());
        Rc::new(move || send_line(&line))
    };
    let on_send = {
        let send_typed = send_typed.clone();
        Callback::from(move |_: MouseEvent| send_typed())
    };
    let on_line_key = crate::callbacks::enter_runs(send_typed);
    let text_action = |make: fn(String) -> PeerWireAction| {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            dispatcher.dispatch(make(input.value()));
        })
    };
    let on_pick = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if !select.value().is_empty() {
                dispatcher.dispatch(PeerWireAction::Line(select.value()));
            }
        })
    };
    let on_peer = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(p) = select.value().parse() {
                dispatcher.dispatch(PeerWireAction::Peer(p));
            }
        })
    };
    let state = &conn.session.state;
    let active = state.is_active();
    let handshake_error = bytes_of("handshake").err();
    html! {
        <div class="peer-wire" data-testid="peer-wire">
            <h3>{ "Talk to a peer" }</h3>
            <p>{ "Connect to one of the swarm's peers through the relay and speak BitTorrent's \
                  peer wire protocol yourself: the handshake carries the swarm's info hash (a \
                  peer drops you if it is not its torrent's), then each message is its length on \
                  4 bytes, an id and its fields. The seed has every piece; it unchokes you at once \
                  if it has a free slot of its four, else at its next optimistic unchoke (30 s)." }</p>
            <div class="toolbar">
                <label>{ "Peer " }
                    <select data-testid="wire-peer" onchange={on_peer} disabled={active}>
                        { for props.addresses.iter().enumerate().map(|(i, a)| html! {
                            <option value={i.to_string()} selected={i == lab.peer}>
                                { if i == 0 { format!("0 (seed) {a}") } else { format!("{i} {a}") } }
                            </option>
                        }) }
                    </select>
                </label>
                <button data-testid="wire-connect" onclick={on_connect} disabled={active}>{ "Connect" }</button>
                <button data-testid="wire-disconnect" onclick={on_disconnect} disabled={!active}>{ "Disconnect" }</button>
                <button data-testid="wire-replay" onclick={on_replay} disabled={handshake_error.is_some()}
                        title="Handshake, then interested once the bitfield is in, then a 16 KiB request once unchoked">
                    { "Replay the dialogue" }
                </button>
            </div>
            <p class={classes!("conn-state", state.key())} data-testid="wire-state" data-state={state.key()}>
                { state.describe() }
            </p>
            <div class="toolbar">
                <label>{ "Info hash " }
                    <input data-testid="wire-info-hash" size="42" spellcheck="false" value={info_hash}
                           oninput={text_action(PeerWireAction::InfoHash)} />
                </label>
                <label>{ "Peer id " }
                    <input data-testid="wire-peer-id" size="22" spellcheck="false" value={lab.peer_id.clone()}
                           oninput={text_action(PeerWireAction::PeerId)} />
                </label>
                <button data-testid="wire-handshake" onclick={on_handshake} disabled={handshake_error.is_some()}>
                    { "Send the handshake (68 bytes)" }
                </button>
            </div>
            if let Some(e) = &handshake_error {
                <p class="notice" data-testid="wire-handshake-error">{ e }</p>
            }
            <div class="toolbar">
                <label>{ "Message " }
                    <input data-testid="wire-line" size="28" spellcheck="false" value={lab.line.clone()}
                           aria-label="A peer wire message, like request 0 0 16384 (Enter sends it)"
                           oninput={text_action(PeerWireAction::Line)} onkeydown={on_line_key} />
                </label>
                <select data-testid="wire-pick" onchange={on_pick} aria-label="Pick a message">
                    <option value="" selected=true>{ "pick a message…" }</option>
                    { for PICKS.iter().map(|p| html! { <option value={*p}>{ *p }</option> }) }
                </select>
                <button data-testid="wire-send" onclick={on_send}>{ "Send" }</button>
            </div>
            { draft_line(&lab.line, &bytes_of(&lab.line), props.layout.as_ref()) }
            <WireMessages items={Rc::new(items)} selected={lab.selected} pieces={props.pieces}
                          layout={props.layout}
                          on_select={ let d = lab.dispatcher(); Callback::from(move |i| d.dispatch(PeerWireAction::Select(i))) } />
        </div>
    }
}

/// Sends the replay's next step once the peer has answered the last.
#[hook]
fn use_replay(
    conn: &Connection,
    lab: &UseReducerHandle<PeerWireLab>,
    items: &[WireItem],
    info_hash: &str,
) {
    let conn = conn.clone();
    let dispatcher = lab.dispatcher();
    let peer_id = lab.peer_id.clone();
    let info_hash = info_hash.to_string();
    let closed = !conn.session.state.is_active();
    use_effect_with((lab.replay, items.to_vec()), move |(replay, items)| {
        let Some(sent) = *replay else {
            return;
        };
        match next_step(sent, items) {
            ReplayNext::Send(k) => {
                if let Ok(bytes) = line_bytes(DIALOGUE[k].0, &info_hash, &peer_id) {
                    conn.send(&bytes);
                }
                dispatcher.dispatch(PeerWireAction::Replay(Some(k)));
            }
            ReplayNext::Done => dispatcher.dispatch(PeerWireAction::Replay(None)),
            ReplayNext::Wait if closed && !items.is_empty() => {
                dispatcher.dispatch(PeerWireAction::Replay(None))
            }
            ReplayNext::Wait => {}
        }
    });
}

/// What the typed line will send, or why it cannot.
fn draft_line(line: &str, bytes: &Result<Vec<u8>, String>, layout: Option<&Layout>) -> Html {
    match bytes {
        Ok(b) => {
            let warning = parse_message(line)
                .ok()
                .and_then(|m| caution_for(&m, layout));
            html! {
                <p class="hint" data-testid="wire-draft">
                    { format!("{} bytes: {}", b.len(), wirelab_shared::text::hex_spaced(&b[..b.len().min(32)])) }
                    if b.len() > 32 { { " …" } }
                    if let Some(w) = warning {
                        <span class="notice" data-testid="wire-caution">{ format!(" — {w}") }</span>
                    }
                </p>
            }
        }
        Err(e) => html! { <p class="notice" data-testid="wire-error">{ e }</p> },
    }
}

#[derive(Properties, PartialEq)]
struct WireMessagesProps {
    items: Rc<Vec<WireItem>>,
    selected: Option<usize>,
    pieces: usize,
    layout: Option<Layout>,
    on_select: Callback<usize>,
}

/// The connection's messages, each way, and the selected one dissected.
#[function_component(WireMessages)]
fn wire_messages(props: &WireMessagesProps) -> Html {
    let items = &props.items;
    let newest = items.iter().rposition(|i| i.direction != Direction::Event);
    let shown = props.selected.filter(|i| *i < items.len()).or(newest);
    let dropped = drop_reason(items, props.layout.as_ref());
    let inspector = shown
        .and_then(|i| items.get(i))
        .filter(|i| !i.bytes.is_empty())
        .map(|item| {
            let dissection = Rc::new(dissect_wire(&item.bytes, props.pieces));
            html! {
                <Inspector bytes={item.bytes.clone()} dissection={dissection}
                           source={item.direction.as_str()} />
            }
        });
    html! {
        <div class="panes">
            <div class="pane">
                <h4>{ "Messages" }</h4>
                <ol class="wire-messages" data-testid="wire-messages">
                    { for items.iter().enumerate().map(|(i, item)| {
                        let on_select = props.on_select.clone();
                        html! {
                            <li>
                                <button class={classes!("wire-message", (Some(i) == shown).then_some("selected"))}
                                        data-testid="wire-message" data-direction={item.direction.as_str()}
                                        data-name={item.name.clone()}
                                        onclick={Callback::from(move |_: MouseEvent| on_select.emit(i))}>
                                    { format!("{} {}", item.direction.arrow(), item.name) }
                                    if !item.bytes.is_empty() {
                                        { format!(" ({} bytes)", item.bytes.len()) }
                                    }
                                </button>
                            </li>
                        }
                    }) }
                </ol>
                if let Some(why) = dropped {
                    <p class="notice" data-testid="wire-dropped">
                        { format!("The peer dropped the connection after your last message: {why}. \
                                   BEP 3 peers serve blocks of at most 16 KiB, within a piece they have.") }
                    </p>
                }
            </div>
            <div class="pane">{ for inspector }</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionAction;
    use wirelab_shared::bittorrent::wire::Message;
    use wirelab_shared::relay_protocol::{RelayMessage, Transport};

    fn session(steps: &[(Direction, Vec<u8>)], closed: bool) -> Session {
        let mut s = Session::default();
        s.apply(SessionAction::Connecting {
            target: "127.0.2.1:4000".into(),
            at: 0.0,
        });
        s.apply(SessionAction::Relay {
            message: RelayMessage::Connected {
                transport: Transport::Tcp,
                target: None,
                peer: "127.0.2.1:4000".into(),
                local: "127.0.0.1:5000".into(),
                connect_ms: 0.1,
                t_ms: None,
                recording: None,
                started_us: None,
                at_us: None,
            },
            at: 1.0,
        });
        for (i, (direction, bytes)) in steps.iter().enumerate() {
            let at = 2.0 + i as f64;
            s.apply(match direction {
                Direction::Sent => SessionAction::Sent {
                    bytes: bytes.clone(),
                    at,
                },
                _ => SessionAction::Received {
                    bytes: bytes.clone(),
                    at,
                },
            });
        }
        if closed {
            s.apply(SessionAction::Relay {
                message: RelayMessage::Closed {
                    by: ClosedBy::Peer,
                    reason: "eof".into(),
                    t_ms: None,
                    at_us: None,
                },
                at: 99.0,
            });
        }
        s
    }

    fn names(items: &[WireItem]) -> Vec<(&'static str, &str)> {
        items
            .iter()
            .map(|i| (i.direction.as_str(), i.name.as_str()))
            .collect()
    }

    #[test]
    fn messages_are_framed_each_way_in_arrival_order() {
        let hello = line_bytes("handshake", &"ab".repeat(20), STUDENT_PEER_ID).unwrap();
        assert_eq!(hello.len(), 68);
        let mut theirs = Handshake::new([0xab; 20], [7; 20]).encode().to_vec();
        let bitfield = Message::Bitfield(vec![0xf0]).encode();
        // The bitfield arrives cut in two, its first half with the handshake.
        theirs.extend_from_slice(&bitfield[..3]);
        let s = session(
            &[
                (Direction::Sent, hello),
                (Direction::Received, theirs),
                (Direction::Received, bitfield[3..].to_vec()),
                (Direction::Sent, line_bytes("interested", "", "").unwrap()),
            ],
            false,
        );
        let items = wire_items(&s, 4);
        assert_eq!(
            names(&items),
            [
                ("sent", "handshake"),
                ("received", "handshake"),
                ("received", "bitfield"),
                ("sent", "interested")
            ]
        );
        assert_eq!(*items[2].bytes, bitfield);
        assert_eq!(next_step(0, &items), ReplayNext::Send(1));
        assert_eq!(next_step(1, &items), ReplayNext::Wait);
    }

    #[test]
    fn an_oversized_request_then_the_close_says_why() {
        let s = session(
            &[(
                Direction::Sent,
                line_bytes("request 0 0 32768", "", "").unwrap(),
            )],
            true,
        );
        let items = wire_items(&s, 4);
        assert_eq!(items.last().unwrap().name, "the peer closed the connection");
        assert!(drop_reason(&items, None).unwrap().contains("32768 bytes"));
        let fine = session(
            &[(Direction::Sent, line_bytes("interested", "", "").unwrap())],
            true,
        );
        assert_eq!(drop_reason(&wire_items(&fine, 4), None), None);
        // Past the end of the last piece: known only with the layout.
        let past = session(
            &[(
                Direction::Sent,
                line_bytes("request 3 0 16384", "", "").unwrap(),
            )],
            true,
        );
        let layout = Layout {
            length: 65536 - 100,
            piece_length: 16384,
        };
        assert_eq!(drop_reason(&wire_items(&past, 4), None), None);
        let why = drop_reason(&wire_items(&past, 4), Some(&layout)).unwrap();
        assert!(why.contains("past the end of piece 3"), "{why}");
    }

    #[test]
    fn junk_from_the_peer_ends_the_framing_with_its_bytes() {
        let s = session(
            &[(Direction::Received, b"HTTP/1.1 400 Bad\r\n".to_vec())],
            false,
        );
        let items = wire_items(&s, 4);
        assert_eq!(items.len(), 1);
        assert!(items[0].name.starts_with("not the peer wire protocol"));
        assert_eq!(items[0].bytes.len(), 18);
    }

    #[test]
    fn the_replay_ends_with_the_piece_and_lines_say_what_is_wrong() {
        let piece = WireItem {
            direction: Direction::Received,
            name: "piece".into(),
            bytes: Rc::default(),
        };
        assert_eq!(next_step(2, &[piece]), ReplayNext::Done);
        assert_eq!(next_step(2, &[]), ReplayNext::Wait);
        assert!(line_bytes("handshake", "12", STUDENT_PEER_ID).is_err());
        assert!(line_bytes("handshake", &"00".repeat(20), "me").is_err());
        let e = line_bytes("have x", "", "").unwrap_err();
        assert!(e.starts_with("characters 6–6"), "{e}");
        assert_eq!(split_address("127.0.2.1:4000"), Some(("127.0.2.1", 4000)));
        assert_eq!(split_address("nowhere"), None);
    }
}
