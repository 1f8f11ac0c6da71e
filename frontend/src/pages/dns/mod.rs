//! The DNS workbench: build a query bit by bit (form, `dig`-like one-liner
//! or raw hex, each following the others), send it to any server of the
//! lab's hierarchy over UDP or TCP, and take the reply apart.
//!
//! Two ways to resolve a name, as in the course:
//! - **by hand (iterative)**: the student is the local DNS server. Ask the
//!   root with RD off; each referral offers "follow" buttons that prepare
//!   the next query to the server it names (glue mapped to the catalog);
//!   the page numbers the messages as the course's figure does, the host's
//!   query (1) and the answer handed back to it (8) included;
//! - **recursive**: ask the local resolver `dns` with RD on; the page
//!   fetches the resolver's trace (`/api/dns/trace`) and draws it as the
//!   figure, and shows the resolver's cache with its TTLs counting down,
//!   so a second lookup shows the cache hit.
//!
//! State: [`builder::Draft`] (the query being built), [`lab::DnsLab`] (the
//! queries sent, the walk, the trace), [`figure`] (the five-lane diagrams),
//! [`panes`] (the walk, the trace, the cache and the flag bits, rendered).

pub mod builder;
pub mod figure;
pub mod lab;
pub mod panes;

use crate::components::inspector::Inspector;
use crate::components::messages::MessageList;
use crate::follow;
use crate::link::{Link, LinkEvent, Route};
use crate::now_ms;
use crate::relay_info::use_relay_info;
use crate::session::Direction;
use builder::Draft;
use lab::{DnsLab, LabAction, Purpose, Status, TraceState};
use panes::{CacheTable, FlagBits, recursive_pane, walk_pane};
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use wirelab_shared::catalog::{paired_name, split_paired};
use wirelab_shared::dissect::Dissection;
use wirelab_shared::dns::cache::CacheView;
use wirelab_shared::dns::dissect::{dissect, dissect_reply, dissect_tcp};
use wirelab_shared::dns::header::FLAG_BITS;
use wirelab_shared::dns::hierarchy;
use wirelab_shared::dns::message::Message as DnsMessage;
use wirelab_shared::dns::name::Name;
use wirelab_shared::dns::query::{QuerySpec, QueryTransport};
use wirelab_shared::dns::reply::{ReplyKind, classify};
use wirelab_shared::dns::resolver::Trace;
use wirelab_shared::dns::walk::{NextHop, Walk, WalkMessage};
use wirelab_shared::dns::{RData, RecordType};
use wirelab_shared::relay_protocol::{ConnectQuery, RelayMessage, TargetInfo, Transport};
use wirelab_shared::text::parse_hex;
use yew::prelude::*;

/// How long a query waits for its reply.
const REPLY_TIMEOUT_S: u32 = 5;

/// The types the form offers.
const TYPES: &[RecordType] = &[
    RecordType::A,
    RecordType::AAAA,
    RecordType::NS,
    RecordType::CNAME,
    RecordType::SOA,
    RecordType::MX,
    RecordType::TXT,
    RecordType::PTR,
    RecordType::SRV,
    RecordType::CAA,
    RecordType::ANY,
];

/// The catalog name of the local resolver.
const RESOLVER: &str = "dns";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Iterative,
    Recursive,
}

/// What the inspector shows instead of the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    /// A message of the transcript.
    Message(usize),
    /// A message of the walk's figure (index in `Walk::numbered`).
    Walk(usize),
    /// A message of the resolver's trace (index in its events).
    Trace(usize),
}

/// The DNS servers of the catalog, once each (without `-tcp`), in order.
pub fn servers(targets: &[TargetInfo]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in targets.iter().filter(|t| t.protocol == "dns") {
        let (base, _) = split_paired(&t.name);
        if !out.iter().any(|known| known == base) {
            out.push(base.to_string());
        }
    }
    out
}

/// The catalog target for a server and transport.
pub fn target_name(server: &str, transport: Transport) -> String {
    paired_name(server, transport)
}

/// What `@server` in a one-liner names: a catalog name (with `-tcp` for
/// TCP), an address of the hierarchy, or a server's host name.
pub fn server_from_text(text: &str, known: &[String]) -> Option<(String, Option<Transport>)> {
    if let (base, Transport::Tcp) = split_paired(text)
        && known.iter().any(|k| k == base)
    {
        return Some((base.to_string(), Some(Transport::Tcp)));
    }
    if known.iter().any(|k| k == text) {
        return Some((text.to_string(), None));
    }
    let lab = match text.parse::<std::net::IpAddr>() {
        Ok(ip) => hierarchy::server_at(ip),
        Err(_) => {
            let host = format!("{}.", text.trim_end_matches('.').to_ascii_lowercase());
            hierarchy::SERVERS.iter().find(|s| s.host == host)
        }
    }?;
    known
        .iter()
        .any(|k| k == lab.catalog)
        .then(|| (lab.catalog.to_string(), None))
}

fn query_transport(t: Transport) -> QueryTransport {
    match t {
        Transport::Udp => QueryTransport::Udp,
        Transport::Tcp => QueryTransport::Tcp,
    }
}

/// A query ID nobody can guess (RFC 5452): the page's random numbers.
fn random_id() -> u16 {
    #[cfg(target_arch = "wasm32")]
    {
        (js_sys::Math::random() * 65536.0) as u16
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        (now_ms() as u64 % 65536) as u16
    }
}

/// The first query of the page: the course's example, iteratively.
fn first_spec() -> QuerySpec {
    let mut spec = QuerySpec::new(
        Name::parse("gaia.cs.umass.edu").unwrap_or_default(),
        RecordType::A,
        random_id(),
    );
    spec.recursion_desired = false;
    spec.server = Some("dns-root".into());
    spec
}

/// The relay's `/api/dns/...` endpoints.
mod resolver_api {
    use wirelab_shared::dns::cache::CacheView;
    use wirelab_shared::dns::resolver::Trace;

    async fn get(path: &str) -> Result<gloo_net::http::Response, String> {
        gloo_net::http::Request::get(path)
            .send()
            .await
            .map_err(|e| e.to_string())
    }

    /// The trace of query `id` sent from `port`; the resolver may still be
    /// filing it when the reply arrives, so a 404 is tried again a few
    /// times.
    pub async fn trace(id: u16, port: Option<u16>) -> Result<Trace, String> {
        let path = match port {
            Some(p) => format!("/api/dns/trace?id={id}&port={p}"),
            None => format!("/api/dns/trace?id={id}"),
        };
        for _ in 0..10 {
            let response = get(&path).await?;
            if response.ok() {
                return response.json::<Trace>().await.map_err(|e| e.to_string());
            }
            if response.status() != 404 {
                return Err(format!("{path}: HTTP {}", response.status()));
            }
            gloo_timers::future::TimeoutFuture::new(150).await;
        }
        Err(format!("the resolver has no trace for query ID {id}"))
    }

    pub async fn cache() -> Result<Vec<CacheView>, String> {
        let response = get("/api/dns/cache").await?;
        if !response.ok() {
            return Err(format!("/api/dns/cache: HTTP {}", response.status()));
        }
        response.json().await.map_err(|e| e.to_string())
    }

    pub async fn clear_cache() -> Result<(), String> {
        let response = gloo_net::http::Request::delete("/api/dns/cache")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.ok() {
            Ok(())
        } else {
            Err(format!("DELETE /api/dns/cache: HTTP {}", response.status()))
        }
    }
}

/// The resolver's cache as last fetched.
#[derive(Debug, Clone, PartialEq, Default)]
struct CacheState {
    entries: Rc<Vec<CacheView>>,
    /// Page clock of the fetch: the TTLs count down from there.
    fetched_at: f64,
    error: Option<String>,
}

#[function_component(DnsPage)]
pub fn dns_page() -> Html {
    let info = use_relay_info();
    let offline = info.is_offline();
    let targets = info.targets_of("dns");
    let known = servers(&targets);

    let lab = use_reducer(DnsLab::default);
    let draft = use_state(|| Draft::new(first_spec()));
    let server = use_state(|| "dns-root".to_string());
    let transport = use_state(|| Transport::Udp);
    let mode = use_state(|| Mode::Iterative);
    let selected = use_state(|| None::<Selected>);
    let prepared = use_state(|| None::<NextHop>);
    let server_note = use_state(|| None::<String>);
    let cache = use_state(CacheState::default);
    let link = use_mut_ref(|| None::<(usize, Link)>);
    let timer = use_mut_ref(|| None::<gloo_timers::callback::Timeout>);

    let has_resolver = known.iter().any(|k| k == RESOLVER);
    let chosen_target = targets
        .iter()
        .find(|t| t.name == target_name(&server, *transport))
        .cloned();

    // The link and the timer go once the query is answered or failed.
    {
        let link = link.clone();
        let timer = timer.clone();
        use_effect_with(lab.active().map(|e| e.id), move |active| {
            if active.is_none() {
                link.borrow_mut().take();
                timer.borrow_mut().take();
            }
        });
    }
    // Unmounting closes everything.
    {
        let link = link.clone();
        let timer = timer.clone();
        use_effect_with((), move |_| {
            move || {
                link.borrow_mut().take();
                timer.borrow_mut().take();
            }
        });
    }

    let refresh_cache = {
        let cache = cache.clone();
        Callback::from(move |_: ()| {
            if offline {
                return;
            }
            let cache = cache.clone();
            yew::platform::spawn_local(async move {
                cache.set(match resolver_api::cache().await {
                    Ok(entries) => CacheState {
                        entries: Rc::new(entries),
                        fetched_at: now_ms(),
                        error: None,
                    },
                    Err(e) => CacheState {
                        error: Some(e),
                        ..CacheState::default()
                    },
                });
            });
        })
    };
    {
        let refresh_cache = refresh_cache.clone();
        use_effect_with(offline, move |_| refresh_cache.emit(()));
    }
    // A query to the resolver finished: fetch its trace and the cache.
    {
        let last = lab.last().cloned();
        let dispatcher = lab.dispatcher();
        let refresh_cache = refresh_cache.clone();
        let key = last.as_ref().map(|e| (e.id, e.status.clone()));
        use_effect_with(key, move |_| {
            if let Some(e) = last
                && !e.is_active()
                && e.purpose != Purpose::Step
            {
                if e.purpose == Purpose::Recursive && e.status == Status::Answered {
                    let id = e.query_id().unwrap_or(0);
                    let port = e.local_port();
                    let exchange = e.id;
                    if offline {
                        dispatcher.dispatch(LabAction::Trace {
                            exchange,
                            trace: Err("the in-browser servers keep no trace".into()),
                        });
                    } else {
                        yew::platform::spawn_local(async move {
                            let trace = resolver_api::trace(id, port).await;
                            dispatcher.dispatch(LabAction::Trace { exchange, trace });
                        });
                    }
                }
                refresh_cache.emit(());
            }
        });
    }

    // ---- the query builder ----
    let set_spec = {
        let draft = draft.clone();
        let prepared = prepared.clone();
        Callback::from(move |spec: QuerySpec| {
            let mut d = (*draft).clone();
            d.set_spec(spec);
            draft.set(d);
            prepared.set(None);
        })
    };
    let edit_spec = |f: fn(&mut QuerySpec, String)| {
        let draft = draft.clone();
        let set_spec = set_spec.clone();
        move |value: String| {
            let mut spec = draft.spec.clone();
            f(&mut spec, value);
            set_spec.emit(spec);
        }
    };
    let on_name = {
        let draft = draft.clone();
        let prepared = prepared.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let mut d = (*draft).clone();
            d.set_name_text(&input.value());
            draft.set(d);
            prepared.set(None);
        })
    };
    let on_type = {
        let edit = edit_spec(|spec, v| {
            if let Some(t) = RecordType::from_text(&v) {
                spec.qtype = t;
            }
        });
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            edit(select.value())
        })
    };
    let on_id = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let mut d = (*draft).clone();
            d.set_id_text(&input.value());
            draft.set(d);
        })
    };
    let on_new_id = {
        let draft = draft.clone();
        let set_spec = set_spec.clone();
        Callback::from(move |_: MouseEvent| {
            let mut spec = draft.spec.clone();
            spec.id = random_id();
            set_spec.emit(spec);
        })
    };
    let checkbox = |f: fn(&mut QuerySpec, bool)| {
        let draft = draft.clone();
        let set_spec = set_spec.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let mut spec = draft.spec.clone();
            f(&mut spec, input.checked());
            set_spec.emit(spec);
        })
    };
    let on_rd = checkbox(|s, on| s.recursion_desired = on);
    let on_cd = checkbox(|s, on| s.checking_disabled = on);
    let on_ad = checkbox(|s, on| s.authentic_data = on);
    let on_edns = checkbox(|s, on| {
        s.edns = on.then_some(s.edns.unwrap_or(1232));
        if !on {
            s.dnssec_ok = false;
        }
    });
    let on_do = checkbox(|s, on| {
        s.dnssec_ok = on;
        if on && s.edns.is_none() {
            s.edns = Some(1232);
        }
    });
    let on_bufsize = {
        let edit = edit_spec(|spec, v| {
            if let Ok(size) = v.trim().parse::<u16>() {
                spec.edns = Some(size);
            }
        });
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            edit(input.value())
        })
    };
    // Sets the draft, the server and the transport together (each handler
    // computes the whole new draft: two `set`s of one state would keep
    // only the last).
    let commit = {
        let draft = draft.clone();
        let server = server.clone();
        let transport = transport.clone();
        Callback::from(move |(mut d, base, t): (Draft, String, Transport)| {
            d.spec.server = Some(base.clone());
            d.spec.transport = query_transport(t);
            draft.set(d);
            server.set(base);
            transport.set(t);
        })
    };
    let choose_server = {
        let draft = draft.clone();
        let commit = commit.clone();
        Callback::from(move |(base, t): (String, Transport)| {
            let mut d = (*draft).clone();
            d.spec.server = Some(base.clone());
            d.spec.transport = query_transport(t);
            d.one_liner = d.spec.to_one_liner();
            d.one_liner_error = None;
            commit.emit((d, base, t));
        })
    };
    let on_server = {
        let choose_server = choose_server.clone();
        let transport = *transport;
        let server_note = server_note.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            server_note.set(None);
            choose_server.emit((select.value(), transport));
        })
    };
    let on_transport = {
        let choose_server = choose_server.clone();
        let server = (*server).clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let t = if select.value() == "tcp" {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            choose_server.emit((server.clone(), t));
        })
    };
    let on_one_liner = {
        let draft = draft.clone();
        let commit = commit.clone();
        let server = (*server).clone();
        let transport = *transport;
        let known = known.clone();
        let server_note = server_note.clone();
        let prepared = prepared.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let mut d = (*draft).clone();
            prepared.set(None);
            let Some(spec) = d.set_one_liner(&input.value()) else {
                commit.emit((d, server.clone(), transport));
                return;
            };
            let wanted = match spec.transport {
                QueryTransport::Tcp => Transport::Tcp,
                QueryTransport::Udp => Transport::Udp,
            };
            let named = spec.server.clone().unwrap_or_else(|| server.clone());
            match server_from_text(&named, &known) {
                Some((base, forced)) => {
                    server_note.set(None);
                    commit.emit((d, base, forced.unwrap_or(wanted)));
                }
                None => {
                    server_note.set(Some(format!(
                        "@{named}: no DNS server of that name or address in the catalog"
                    )));
                    commit.emit((d, server.clone(), wanted));
                }
            }
        })
    };
    let on_hex = {
        let draft = draft.clone();
        let prepared = prepared.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            let mut d = (*draft).clone();
            d.set_hex(&area.value());
            draft.set(d);
            prepared.set(None);
        })
    };
    let on_bit = {
        let draft = draft.clone();
        Callback::from(move |bit: u8| {
            let mut d = (*draft).clone();
            d.toggle_flag_bit(bit);
            draft.set(d);
        })
    };
    let on_mode = {
        let mode = mode.clone();
        let draft = draft.clone();
        let commit = commit.clone();
        let transport = *transport;
        let prepared = prepared.clone();
        Callback::from(move |m: Mode| {
            mode.set(m);
            let base = match m {
                Mode::Iterative => "dns-root",
                Mode::Recursive if has_resolver => RESOLVER,
                Mode::Recursive => return,
            };
            let mut d = (*draft).clone();
            let mut spec = d.spec.clone();
            spec.recursion_desired = m == Mode::Recursive;
            spec.server = Some(base.into());
            d.set_spec(spec);
            prepared.set(None);
            commit.emit((d, base.into(), transport));
        })
    };

    // ---- sending ----
    let send_now = {
        let lab = lab.clone();
        let draft = draft.clone();
        let server = (*server).clone();
        let transport = *transport;
        let chosen_target = chosen_target.clone();
        let prepared = prepared.clone();
        let link = link.clone();
        let timer = timer.clone();
        let selected = selected.clone();
        let mode = mode.clone();
        Callback::from(move |_: ()| {
            let Some(target) = chosen_target.clone() else {
                return;
            };
            if lab.active().is_some() || draft.bytes.is_empty() {
                return;
            }
            let rd = draft.flags().is_some_and(|f| FLAG_BITS[4].get(f) == 1);
            let purpose = match (server == RESOLVER, rd) {
                (true, true) => Purpose::Recursive,
                (true, false) => Purpose::Plain,
                (false, _) => Purpose::Step,
            };
            let zone = prepared
                .as_ref()
                .filter(|hop| hop.server.as_deref() == Some(server.as_str()))
                .map(|hop| hop.zone.clone());
            let id = lab.next_id();
            lab.dispatch(LabAction::Send {
                target: target.name.clone(),
                transport,
                purpose,
                query: draft.bytes.clone(),
                zone,
                at: now_ms(),
            });
            selected.set(None);
            mode.set(if purpose == Purpose::Step {
                Mode::Iterative
            } else {
                Mode::Recursive
            });
            let wire = draft.wire(query_transport(transport));
            let dispatcher = lab.dispatcher();
            let slot = link.clone();
            let on_event = Callback::from(move |event: LinkEvent| {
                let at = now_ms();
                match event {
                    LinkEvent::Relay(message) => {
                        if matches!(message, RelayMessage::Connected { .. })
                            && let Some((current, l)) = slot.borrow().as_ref()
                            && *current == id
                        {
                            let _ = l.send(&wire);
                        }
                        dispatcher.dispatch(LabAction::Relay {
                            exchange: id,
                            message,
                            at,
                        });
                    }
                    LinkEvent::Data(bytes) => dispatcher.dispatch(LabAction::Data {
                        exchange: id,
                        bytes,
                        at,
                    }),
                    LinkEvent::SocketClosed { code, reason } => {
                        dispatcher.dispatch(LabAction::SocketClosed {
                            exchange: id,
                            code,
                            reason,
                        })
                    }
                }
            });
            let route = if offline {
                Route::Local(target.clone())
            } else {
                Route::Relay(ConnectQuery::target(&target.name))
            };
            match Link::open(route, on_event) {
                Ok(l) => *link.borrow_mut() = Some((id, l)),
                Err(reason) => lab.dispatch(LabAction::SocketClosed {
                    exchange: id,
                    code: 0,
                    reason,
                }),
            }
            let dispatcher = lab.dispatcher();
            *timer.borrow_mut() = Some(gloo_timers::callback::Timeout::new(
                REPLY_TIMEOUT_S * 1000,
                move || {
                    dispatcher.dispatch(LabAction::TimedOut {
                        exchange: id,
                        seconds: REPLY_TIMEOUT_S,
                    })
                },
            ));
        })
    };
    let on_send = {
        let send_now = send_now.clone();
        Callback::from(move |_: MouseEvent| send_now.emit(()))
    };
    // Enter in the one-liner sends, as in a terminal.
    let on_one_liner_key = {
        let send_now = send_now.clone();
        let typed_ok = draft.one_liner_error.is_none();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && typed_ok {
                e.prevent_default();
                send_now.emit(());
            }
        })
    };
    let on_follow = {
        let draft = draft.clone();
        let commit = commit.clone();
        let prepared = prepared.clone();
        let transport = *transport;
        let selected = selected.clone();
        Callback::from(move |hop: NextHop| {
            let Some(base) = hop.server.clone() else {
                return;
            };
            let mut spec = draft.spec.clone();
            spec.name = hop.question.name.clone();
            spec.qtype = hop.question.qtype;
            spec.qclass = hop.question.qclass;
            let mut spec = spec.next_hop(random_id());
            let t = if hop.tcp { Transport::Tcp } else { transport };
            spec.server = Some(base.clone());
            spec.transport = query_transport(t);
            let mut d = (*draft).clone();
            d.set_spec(spec);
            commit.emit((d, base, t));
            prepared.set(Some(hop));
            selected.set(None);
        })
    };
    let on_new_walk = {
        let lab = lab.clone();
        let on_mode = on_mode.clone();
        Callback::from(move |_: MouseEvent| {
            lab.dispatch(LabAction::NewWalk);
            on_mode.emit(Mode::Iterative);
        })
    };
    let on_clear = {
        let lab = lab.clone();
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| {
            selected.set(None);
            lab.dispatch(LabAction::Clear);
        })
    };
    let on_clear_cache = {
        let refresh_cache = refresh_cache.clone();
        Callback::from(move |_: MouseEvent| {
            let refresh_cache = refresh_cache.clone();
            yew::platform::spawn_local(async move {
                let _ = resolver_api::clear_cache().await;
                refresh_cache.emit(());
            });
        })
    };
    let on_refresh_cache = {
        let refresh_cache = refresh_cache.clone();
        Callback::from(move |_: MouseEvent| refresh_cache.emit(()))
    };

    // ---- what is shown ----
    let (items, refs) = lab.transcript();
    let messages = follow::messages(&items);
    let walk = lab.walk.clone();
    let trace = match lab.recursive.as_ref().map(|r| &r.trace) {
        Some(TraceState::Loaded(t)) => Some(t.clone()),
        _ => None,
    };
    let (shown_bytes, shown_dissection, source) = shown(
        *selected,
        &draft,
        *transport,
        &messages,
        walk.as_ref(),
        trace.as_deref(),
    );
    let select = |make: fn(usize) -> Selected| {
        let selected = selected.clone();
        Callback::from(move |i: usize| selected.set(Some(make(i))))
    };
    let on_select_message = select(Selected::Message);
    let on_select_walk = select(Selected::Walk);
    let on_select_trace = select(Selected::Trace);
    let on_show_draft = {
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| selected.set(None))
    };

    // A reply that arrives is shown in the inspector at once.
    {
        let selected = selected.clone();
        let answered = lab
            .last()
            .filter(|e| e.status == Status::Answered)
            .map(|e| e.id);
        let reply_index =
            answered.and_then(|id| refs.iter().position(|r| r.exchange == id && r.reply));
        use_effect_with(answered, move |answered| {
            if answered.is_some()
                && let Some(i) = reply_index
            {
                selected.set(Some(Selected::Message(i)));
            }
        });
    }
    let active = lab.active().cloned();
    let status = status_line(lab.last(), &targets);
    let outcome = lab.last().and_then(outcome_of);

    html! {
        <section class="page dns">
            <h1>{ "DNS: names to addresses" }</h1>
            <p class="intro">
                { "Build a query bit by bit, send it to a server of the lab's hierarchy (root, TLDs, \
                   authoritative servers, and the local DNS server dns.poly.edu), and take the reply \
                   apart. Resolve a name by hand, following the referrals from the root as the local \
                   DNS server does, or let the local server do it and watch its trace and cache." }
            </p>
            if targets.is_empty() {
                <p class="notice" data-testid="no-target">
                    { if offline {
                        "No relay answered and the DNS servers cannot run in this page: start the relay (cargo xtask run) to use the DNS workbench."
                    } else {
                        "This relay has no DNS servers in its catalog (servers.dns.enabled = false)."
                    } }
                </p>
            }
            <div class="mode-tabs" role="tablist">
                <button class={classes!("tab", (*mode == Mode::Iterative).then_some("active"))}
                        data-testid="mode-iterative" data-active={(*mode == Mode::Iterative).to_string()}
                        onclick={ let on_mode = on_mode.clone(); Callback::from(move |_| on_mode.emit(Mode::Iterative)) }>
                    { "By hand: iterative, from the root" }
                </button>
                <button class={classes!("tab", (*mode == Mode::Recursive).then_some("active"))}
                        data-testid="mode-recursive" data-active={(*mode == Mode::Recursive).to_string()}
                        disabled={!has_resolver}
                        title={if has_resolver { "" } else { "the local resolver runs on the relay only" }}
                        onclick={ let on_mode = on_mode.clone(); Callback::from(move |_| on_mode.emit(Mode::Recursive)) }>
                    { "Recursive: through the local DNS server" }
                </button>
            </div>
            <div class="composer-grid">
                <div class="pane dns-builder">
                    <h2>{ "The query" }</h2>
                    <label class="one-liner">{ "dig-like one-liner " }
                        <input class="editor" data-testid="one-liner" spellcheck="false"
                               value={draft.one_liner.clone()} oninput={on_one_liner} onkeydown={on_one_liner_key}
                               placeholder="gaia.cs.umass.edu A +norecurse @dns-root" />
                    </label>
                    if let Some(e) = &draft.one_liner_error {
                        <p class="field-error" data-testid="one-liner-error">
                            <code>{ one_liner_caret(&draft.one_liner, e.span.start, e.span.end) }</code>
                            { format!(" {}", e.message) }
                        </p>
                    }
                    if let Some(note) = &*server_note { <p class="field-error">{ note }</p> }
                    <div class="toolbar">
                        <label>{ "Name " }
                            <input class="editor name" data-testid="qname" spellcheck="false"
                                   value={draft.name_text.clone()} oninput={on_name} />
                        </label>
                        <label>{ "Type " }
                            <select data-testid="qtype" onchange={on_type}>
                                { for TYPES.iter().map(|t| html! {
                                    <option value={t.to_string()} selected={draft.spec.qtype == *t}>{ t.to_string() }</option>
                                }) }
                                if !TYPES.contains(&draft.spec.qtype) {
                                    <option value={draft.spec.qtype.to_string()} selected=true>{ draft.spec.qtype.to_string() }</option>
                                }
                            </select>
                        </label>
                        <label>{ "ID " }
                            <input class="id" type="number" min="0" max="65535" data-testid="qid"
                                   value={draft.id_text.clone()} oninput={on_id} />
                        </label>
                        <button class="small" data-testid="new-id" onclick={on_new_id}
                                title="A random ID, as a resolver must pick (RFC 5452)">{ "random" }</button>
                    </div>
                    if let Some(e) = &draft.name_error { <p class="field-error" data-testid="name-error">{ format!("name: {e}") }</p> }
                    <div class="toolbar flags-form">
                        <label title={FLAG_BITS[4].help}>
                            <input type="checkbox" data-testid="flag-rd" checked={draft.spec.recursion_desired} onchange={on_rd} />
                            { " RD recursion desired" }
                        </label>
                        <label title={FLAG_BITS[8].help}>
                            <input type="checkbox" data-testid="flag-cd" checked={draft.spec.checking_disabled} onchange={on_cd} />{ " CD" }
                        </label>
                        <label title={FLAG_BITS[7].help}>
                            <input type="checkbox" data-testid="flag-ad" checked={draft.spec.authentic_data} onchange={on_ad} />{ " AD" }
                        </label>
                        <label title="EDNS(0): an OPT record announcing a larger UDP size (RFC 6891)">
                            <input type="checkbox" data-testid="flag-edns" checked={draft.spec.edns.is_some()} onchange={on_edns} />{ " EDNS, UDP size " }
                        </label>
                        <input class="id" type="number" min="512" max="65535" data-testid="bufsize"
                               disabled={draft.spec.edns.is_none()}
                               value={draft.spec.edns.unwrap_or(1232).to_string()} oninput={on_bufsize} />
                        <label title="DNSSEC OK: send the signatures too (RFC 3225)">
                            <input type="checkbox" data-testid="flag-do" checked={draft.spec.dnssec_ok} onchange={on_do} />{ " DO" }
                        </label>
                    </div>
                    <FlagBits flags={draft.flags()} on_toggle={on_bit} />
                    <label class="hex-label">{ "The message in hex (edit it: the form follows) " }
                        <textarea data-testid="hex-editor" class="editor hex-editor" rows="5" spellcheck="false"
                                  value={draft.hex_text.clone()} oninput={on_hex} />
                    </label>
                    if let Some(e) = &draft.hex_error { <p class="field-error" data-testid="hex-error">{ e }</p> }
                    if let Some(note) = &draft.form_note { <p class="hint" data-testid="form-note">{ note }</p> }
                    <div class="toolbar">
                        <label>{ "Server " }
                            <select data-testid="target-select" onchange={on_server}>
                                { for known.iter().map(|s| html! {
                                    <option value={s.clone()} selected={*s == *server}>{ server_label(s, &targets) }</option>
                                }) }
                            </select>
                        </label>
                        <label>{ "over " }
                            <select data-testid="transport" onchange={on_transport}>
                                <option value="udp" selected={*transport == Transport::Udp}>{ "UDP" }</option>
                                <option value="tcp" selected={*transport == Transport::Tcp}>{ "TCP (length prefix)" }</option>
                            </select>
                        </label>
                        <button data-testid="send" onclick={on_send}
                                disabled={chosen_target.is_none() || active.is_some() || draft.bytes.is_empty()}>{ "Send" }</button>
                        <span class="hint">{ send_hint(&draft, *transport, chosen_target.as_ref()) }</span>
                    </div>
                    <p class={classes!("conn-state", status.0)} data-testid="conn-state" data-state={status.0}>{ status.1 }</p>
                    if let Some((kind, text, soa)) = &outcome {
                        <div class={classes!("dns-outcome", *kind)} data-testid="outcome" data-kind={*kind}>
                            <span>{ text }</span>
                            if let Some(soa) = soa { <span class="soa" data-testid="outcome-soa">{ soa }</span> }
                        </div>
                    }
                </div>
                <div class="pane">
                    <h2>
                        { match source { "draft" => "Your query, as it will be sent", "host" => "A message between the host and its local server", "trace" => "A message of the resolver's trace", "sent" => "A query you sent", _ => "A reply" } }
                        if selected.is_some() {
                            <button class="small" data-testid="show-draft" onclick={on_show_draft}>{ "back to the draft" }</button>
                        }
                    </h2>
                    <Inspector bytes={shown_bytes} dissection={shown_dissection} source={source} />
                </div>
            </div>
            if *mode == Mode::Iterative {
                { walk_pane(walk.as_ref(), *selected, on_select_walk, on_follow, on_new_walk) }
            } else {
                { recursive_pane(&lab, trace.as_deref(), *selected, on_select_trace, offline) }
                <div class="pane dns-cache">
                    <h2>{ "The local DNS server's cache " }
                        <button class="small" data-testid="cache-refresh" onclick={on_refresh_cache} disabled={offline}>{ "refresh" }</button>
                        <button class="small" data-testid="cache-clear" onclick={on_clear_cache} disabled={offline}>{ "empty it" }</button>
                    </h2>
                    if let Some(e) = &cache.error { <p class="field-error">{ e }</p> }
                    <CacheTable entries={cache.entries.clone()} fetched_at={cache.fetched_at} />
                </div>
            }
            <div class="pane">
                <h2>{ "Transcript: every query and reply on the wire " }
                    <button class="small" data-testid="clear" onclick={on_clear}>{ "clear" }</button>
                </h2>
                <MessageList items={Rc::new(items)} selected={match *selected { Some(Selected::Message(i)) => Some(i), _ => None }}
                             on_select={on_select_message} hex=true />
                { for (refs.is_empty()).then(|| html! { <p class="hint">{ "Nothing sent yet." }</p> }) }
            </div>
        </section>
    }
}

/// `(data-state, sentence)` for the last query.
fn status_line(last: Option<&lab::Exchange>, targets: &[TargetInfo]) -> (&'static str, String) {
    let Some(e) = last else {
        return ("idle", "nothing sent yet".into());
    };
    let address = targets
        .iter()
        .find(|t| t.name == e.target)
        .map(|t| format!("{}:{}", t.host, t.port))
        .unwrap_or_default();
    match &e.status {
        Status::Connecting => (
            "connecting",
            format!(
                "opening a {} flow to {} ({address})…",
                e.transport, e.target
            ),
        ),
        Status::Waiting => (
            "open",
            format!(
                "query sent to {} ({address}) over {}; waiting for the reply…",
                e.target, e.transport
            ),
        ),
        Status::Answered => (
            "closed",
            format!(
                "{} answered in {:.1} ms over {}{}",
                e.target,
                e.rtt_ms().unwrap_or(0.0),
                e.transport,
                e.local
                    .as_ref()
                    .map(|l| format!(", to {l}"))
                    .unwrap_or_default()
            ),
        ),
        Status::Failed(why) => ("failed", format!("{}: {why}", e.target)),
    }
}

/// `(kind, sentence, SOA)` of the last reply: what it means.
fn outcome_of(e: &lab::Exchange) -> Option<(&'static str, String, Option<String>)> {
    let reply = DnsMessage::parse(e.reply.as_ref()?).ok()?;
    let question = DnsMessage::parse(&e.query)
        .ok()?
        .questions
        .into_iter()
        .next()?;
    let kind = classify(&question, &reply);
    let key = match &kind {
        ReplyKind::Answer { .. } => "answer",
        ReplyKind::Alias { .. } => "alias",
        ReplyKind::Referral { .. } => "referral",
        ReplyKind::NxDomain { .. } => "nxdomain",
        ReplyKind::NoData { .. } => "nodata",
        ReplyKind::Truncated => "truncated",
        ReplyKind::Error { .. } => "error",
    };
    let soa = match &kind {
        ReplyKind::NxDomain { soa: Some(soa), .. } | ReplyKind::NoData { soa: Some(soa), .. } => {
            let minimum = match &soa.data {
                RData::Soa { minimum, .. } => *minimum,
                _ => 0,
            };
            Some(format!(
                "SOA of {}: {} — a resolver remembers this answer for {} s (the smaller of the SOA's TTL and its minimum, RFC 2308 §5)",
                soa.name,
                soa.to_text(),
                soa.ttl.min(minimum)
            ))
        }
        _ => None,
    };
    let aa = if reply.header.aa {
        " (authoritative)"
    } else {
        ""
    };
    Some((key, format!("{}{aa}", kind.describe()), soa))
}

/// The one-liner with a caret line under the part that is wrong.
fn one_liner_caret(text: &str, start: usize, end: usize) -> String {
    let width = text[..start.min(text.len())].chars().count();
    let len = text
        .get(start.min(text.len())..end.min(text.len()))
        .map_or(1, |s| s.chars().count().max(1));
    format!("{text}\n{}{}", " ".repeat(width), "^".repeat(len))
}

fn server_label(base: &str, targets: &[TargetInfo]) -> String {
    let address = targets
        .iter()
        .find(|t| t.name == base)
        .map(|t| format!(" {}:{}", t.host, t.port))
        .unwrap_or_default();
    match hierarchy::server(base) {
        Some(s) => {
            let role = match s.role {
                hierarchy::Role::Resolver => "local DNS server",
                hierarchy::Role::Root => "root",
                hierarchy::Role::Tld => "TLD",
                hierarchy::Role::Authoritative => "authoritative",
            };
            format!("{base} — {role} {}{address}", s.host.trim_end_matches('.'))
        }
        None => format!("{base}{address}"),
    }
}

fn send_hint(draft: &Draft, transport: Transport, target: Option<&TargetInfo>) -> String {
    let len = draft.bytes.len();
    match (transport, target) {
        (_, None) => "this server has no entry for that transport in the catalog".into(),
        (Transport::Udp, Some(t)) => {
            let over = if len > 512 {
                " (over 512: needs EDNS)"
            } else {
                ""
            };
            format!(
                "{len} bytes, one UDP datagram to {}:{}{over}",
                t.host, t.port
            )
        }
        (Transport::Tcp, Some(t)) => format!(
            "{} bytes on a TCP connection to {}:{}: the 2-byte length {len}, then the message",
            len + 2,
            t.host,
            t.port
        ),
    }
}

/// The bytes, dissection and source the inspector shows.
fn shown(
    selected: Option<Selected>,
    draft: &Draft,
    transport: Transport,
    messages: &[Rc<wirelab_shared::conversation::Message>],
    walk: Option<&Walk>,
    trace: Option<&Trace>,
) -> (Rc<Vec<u8>>, Rc<Dissection>, &'static str) {
    let pick = |bytes: Vec<u8>, d: Dissection, source| Some((Rc::new(bytes), Rc::new(d), source));
    let chosen = match selected {
        Some(Selected::Message(i)) => messages.get(i).and_then(|m| {
            let source = Direction::of(m.sender).as_str();
            pick(m.bytes.clone(), m.dissection.clone(), source)
        }),
        Some(Selected::Walk(i)) => walk.and_then(|w| {
            let numbered = w.numbered().get(i).copied()?;
            match numbered.what {
                WalkMessage::HostQuery => {
                    let q = w.host_query();
                    pick(q.clone(), dissect(&q), "host")
                }
                WalkMessage::HostReply => {
                    let r = w.host_reply()?;
                    pick(r.clone(), dissect_reply(&w.host_query(), &r), "host")
                }
                WalkMessage::Query(s) => {
                    let q = w.steps.get(s)?.query.clone();
                    pick(q.clone(), dissect(&q), "sent")
                }
                WalkMessage::Reply(s) => {
                    let step = w.steps.get(s)?;
                    let r = step.reply.clone()?;
                    pick(r.clone(), dissect_reply(&step.query, &r), "received")
                }
            }
        }),
        Some(Selected::Trace(i)) => trace.and_then(|t| {
            let bytes = parse_hex(&t.events.get(i)?.hex)?;
            pick(bytes.clone(), dissect(&bytes), "trace")
        }),
        None => None,
    };
    chosen.unwrap_or_else(|| {
        let wire = draft.wire(query_transport(transport));
        let d = match transport {
            Transport::Udp => dissect(&wire),
            Transport::Tcp => dissect_tcp(&wire),
        };
        (Rc::new(wire), Rc::new(d), "draft")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, transport: Transport) -> TargetInfo {
        TargetInfo {
            name: name.into(),
            transport,
            host: "127.0.0.10".into(),
            port: 1053,
            protocol: "dns".into(),
            description: String::new(),
            data_ports: None,
        }
    }

    #[test]
    fn servers_are_listed_once_and_named_many_ways() {
        let targets = vec![
            target("dns", Transport::Udp),
            target("dns-tcp", Transport::Tcp),
            target("dns-root", Transport::Udp),
            target("dns-root-tcp", Transport::Tcp),
            target("dns-cs-umass", Transport::Udp),
        ];
        let known = servers(&targets);
        assert_eq!(known, ["dns", "dns-root", "dns-cs-umass"]);
        assert_eq!(target_name("dns-root", Transport::Tcp), "dns-root-tcp");
        assert_eq!(
            server_from_text("dns-root-tcp", &known),
            Some(("dns-root".into(), Some(Transport::Tcp)))
        );
        assert_eq!(
            server_from_text("127.0.0.21", &known),
            Some(("dns-cs-umass".into(), None))
        );
        assert_eq!(
            server_from_text("a.root-servers.net", &known),
            Some(("dns-root".into(), None))
        );
        assert_eq!(
            server_from_text("127.0.0.11", &known),
            None,
            "not in this catalog"
        );
        assert_eq!(server_from_text("nope", &known), None);
        assert!(
            server_label("dns-root", &targets).contains("root a.root-servers.net 127.0.0.10:1053")
        );
    }

    #[test]
    fn carets_point_at_the_mistake() {
        assert_eq!(
            one_liner_caret("a.b +norecurs", 4, 13),
            "a.b +norecurs\n    ^^^^^^^^^"
        );
        assert_eq!(one_liner_caret("A", 1, 1), "A\n ^");
    }
}
