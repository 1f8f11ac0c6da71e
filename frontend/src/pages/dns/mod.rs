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
//! State: one reducer, [`lab::DnsLab`] (the queries sent, the walk, the
//! trace) with [`form`] (the query being built, a [`builder::Draft`], its
//! server, the mode, what the inspector shows, the cache). View: [`view`]
//! (the builder, send bar, inspector, cache and transcript as small
//! components), [`figure`] (the ladder diagrams), [`panes`] (the walk, the
//! trace, the cache table and the flag bits). This file holds the page and
//! its links to the servers and the relay's DNS endpoints.

pub mod builder;
pub mod figure;
pub mod form;
pub mod lab;
pub mod panes;
pub mod view;

pub use form::Selected;

use crate::link::{Link, LinkEvent, Route};
use crate::now_ms;
use crate::relay_info::use_relay_info;
use form::{FormAction, Mode, RESOLVER};
use lab::{DnsLab, LabAction, Purpose, Status};
use panes::{recursive_pane, walk_pane};
use std::cell::RefCell;
use std::rc::Rc;
use view::{
    CachePane, InspectorPane, ModeTabs, QueryForm, SendBar, TranscriptPane, chosen_target,
    loaded_trace, select_with,
};
use wirelab_shared::catalog::{paired_name, split_paired};
use wirelab_shared::dns::walk::NextHop;
use wirelab_shared::relay_protocol::{ConnectQuery, RelayMessage, TargetInfo, Transport};
use yew::prelude::*;

/// How long a query waits for its reply.
const REPLY_TIMEOUT_S: u32 = 5;

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

/// A query ID nobody can guess (RFC 5452): the page's random numbers.
pub fn random_id() -> u16 {
    #[cfg(target_arch = "wasm32")]
    {
        (js_sys::Math::random() * 65536.0) as u16
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        (now_ms() as u64 % 65536) as u16
    }
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

/// The open link of the query in flight, and its reply timer.
#[derive(Default)]
struct InFlight {
    link: Option<(usize, Link)>,
    timer: Option<gloo_timers::callback::Timeout>,
}

type InFlightRef = Rc<RefCell<InFlight>>;

#[function_component(DnsPage)]
pub fn dns_page() -> Html {
    let info = use_relay_info();
    let offline = info.is_offline();
    let targets = Rc::new(info.targets_of("dns"));
    let known = Rc::new(servers(&targets));
    let has_resolver = known.iter().any(|k| k == RESOLVER);
    let lab = use_reducer(|| DnsLab::new(random_id()));
    let in_flight = use_in_flight(lab.active().map(|e| e.id));
    let refresh_cache = use_cache(&lab, offline);
    use_trace(&lab, offline, refresh_cache.clone());
    let on_send = send_callback(&lab, &targets, offline, &in_flight);
    let on_clear_cache = {
        let refresh_cache = refresh_cache.clone();
        Callback::from(move |_: ()| {
            let refresh_cache = refresh_cache.clone();
            yew::platform::spawn_local(async move {
                let _ = resolver_api::clear_cache().await;
                refresh_cache.emit(());
            });
        })
    };
    let on_follow = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |hop: NextHop| {
            dispatcher.dispatch(LabAction::Form(FormAction::Follow {
                hop,
                id: random_id(),
            }))
        })
    };
    let on_new_walk = {
        let dispatcher = lab.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(LabAction::NewWalk))
    };
    let trace = loaded_trace(&lab);

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
            <ModeTabs lab={lab.clone()} has_resolver={has_resolver} />
            <div class="composer-grid">
                <div class="pane dns-builder">
                    <h2>{ "The query" }</h2>
                    <QueryForm lab={lab.clone()} known={known.clone()} on_send={on_send.clone()} />
                    <SendBar lab={lab.clone()} targets={targets.clone()} known={known.clone()} on_send={on_send} />
                </div>
                <InspectorPane lab={lab.clone()} />
            </div>
            if lab.mode == Mode::Iterative {
                { walk_pane(lab.walk.as_ref(), lab.selected, select_with(&lab, Selected::Walk), on_follow, on_new_walk) }
            } else {
                { recursive_pane(&lab, trace.as_deref(), lab.selected, select_with(&lab, Selected::Trace), offline) }
                <CachePane lab={lab.clone()} offline={offline} on_refresh={refresh_cache} on_clear={on_clear_cache} />
            }
            <TranscriptPane lab={lab.clone()} />
        </section>
    }
}

/// The link and the timer of the query in flight: they go once it is
/// answered or failed, and when the page goes.
#[hook]
fn use_in_flight(active: Option<usize>) -> InFlightRef {
    let in_flight = use_mut_ref(InFlight::default);
    {
        let in_flight = in_flight.clone();
        use_effect_with(active, move |active| {
            if active.is_none() {
                *in_flight.borrow_mut() = InFlight::default();
            }
        });
    }
    {
        let in_flight = in_flight.clone();
        use_effect_with((), move |_| {
            move || *in_flight.borrow_mut() = InFlight::default()
        });
    }
    in_flight
}

/// A callback that fetches the resolver's cache into the lab (on the
/// relay only); fetched once at the start.
#[hook]
fn use_cache(lab: &UseReducerHandle<DnsLab>, offline: bool) -> Callback<()> {
    let dispatcher = lab.dispatcher();
    let refresh = Callback::from(move |_: ()| {
        if offline {
            return;
        }
        let dispatcher = dispatcher.clone();
        yew::platform::spawn_local(async move {
            let entries = resolver_api::cache().await;
            dispatcher.dispatch(LabAction::Form(FormAction::Cache {
                entries,
                at: now_ms(),
            }));
        });
    });
    {
        let refresh = refresh.clone();
        use_effect_with(offline, move |_| refresh.emit(()));
    }
    refresh
}

/// A query to the resolver finished: fetch its trace and the cache.
#[hook]
fn use_trace(lab: &UseReducerHandle<DnsLab>, offline: bool, refresh_cache: Callback<()>) {
    let last = lab.last().cloned();
    let dispatcher = lab.dispatcher();
    let key = last.as_ref().map(|e| (e.id, e.status.clone()));
    use_effect_with(key, move |_| {
        let Some(e) = last.filter(|e| !e.is_active() && e.purpose != Purpose::Step) else {
            return;
        };
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
    });
}

/// Send: the lab records the query, then a link to the chosen server
/// carries it, with a timer for the reply.
fn send_callback(
    lab: &UseReducerHandle<DnsLab>,
    targets: &[TargetInfo],
    offline: bool,
    in_flight: &InFlightRef,
) -> Callback<()> {
    let target = chosen_target(lab, targets).cloned();
    let ready = lab.active().is_none() && !lab.draft.bytes.is_empty();
    let id = lab.next_id();
    let wire = lab.draft.wire(form::query_transport(lab.transport));
    let dispatcher = lab.dispatcher();
    let in_flight = in_flight.clone();
    Callback::from(move |_: ()| {
        let Some(target) = target.clone().filter(|_| ready) else {
            return;
        };
        dispatcher.dispatch(LabAction::SendDraft {
            target: target.name.clone(),
            at: now_ms(),
        });
        let route = if offline {
            Route::Local(target.clone())
        } else {
            Route::Relay(ConnectQuery::target(&target.name))
        };
        let on_event = link_events(dispatcher.clone(), &in_flight, id, wire.clone());
        let link = Link::open(route, on_event);
        let mut slot = in_flight.borrow_mut();
        match link {
            Ok(l) => slot.link = Some((id, l)),
            Err(reason) => dispatcher.dispatch(LabAction::SocketClosed {
                exchange: id,
                code: 0,
                reason,
            }),
        }
        let dispatcher = dispatcher.clone();
        slot.timer = Some(gloo_timers::callback::Timeout::new(
            REPLY_TIMEOUT_S * 1000,
            move || {
                dispatcher.dispatch(LabAction::TimedOut {
                    exchange: id,
                    seconds: REPLY_TIMEOUT_S,
                })
            },
        ));
    })
}

/// What the link of exchange `id` reports goes to the lab; the query
/// leaves once the link is connected.
fn link_events(
    dispatcher: UseReducerDispatcher<DnsLab>,
    in_flight: &InFlightRef,
    id: usize,
    wire: Vec<u8>,
) -> Callback<LinkEvent> {
    let slot = in_flight.clone();
    Callback::from(move |event: LinkEvent| {
        let at = now_ms();
        let action = match event {
            LinkEvent::Relay(message) => {
                if matches!(message, RelayMessage::Connected { .. })
                    && let Some((current, l)) = slot.borrow().link.as_ref()
                    && *current == id
                {
                    let _ = l.send(&wire);
                }
                LabAction::Relay {
                    exchange: id,
                    message,
                    at,
                }
            }
            LinkEvent::Data(bytes) => LabAction::Data {
                exchange: id,
                bytes,
                at,
            },
            LinkEvent::SocketClosed { code, reason } => LabAction::SocketClosed {
                exchange: id,
                code,
                reason,
            },
        };
        dispatcher.dispatch(action);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use form::server_from_text;

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
            view::server_label("dns-root", &targets)
                .contains("root a.root-servers.net 127.0.0.10:1053")
        );
        let lab = DnsLab::new(1);
        assert_eq!(chosen_target(&lab, &targets).unwrap().name, "dns-root");
    }
}
