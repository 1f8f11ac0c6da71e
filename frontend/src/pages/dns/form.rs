//! The DNS workbench's form state and its actions: the draft query, the
//! server and transport it goes to, the mode (by hand or recursive), the
//! referral being followed, what the inspector shows, and the resolver's
//! cache as last fetched. Part of the one [`DnsLab`] reducer: these are
//! the [`FormAction`]s of [`LabAction::Form`](super::lab::LabAction::Form).
//!
//! What belongs to a mode or a server goes when it changes: switching mode
//! forgets the followed referral, the note about the server named in the
//! one-liner, the message shown in the inspector and the outcome of the
//! last reply.

use super::builder::Draft;
use super::lab::DnsLab;
use std::rc::Rc;
use wirelab_shared::catalog::split_paired;
use wirelab_shared::dns::RecordType;
use wirelab_shared::dns::cache::CacheView;
use wirelab_shared::dns::hierarchy;
use wirelab_shared::dns::name::Name;
use wirelab_shared::dns::query::{QuerySpec, QueryTransport};
use wirelab_shared::dns::walk::NextHop;
use wirelab_shared::relay_protocol::Transport;

/// The catalog name of the local resolver.
pub const RESOLVER: &str = "dns";

/// The server the walk by hand starts from.
pub const ROOT: &str = "dns-root";

/// How the student resolves a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// By hand, from the root, with RD off.
    Iterative,
    /// Through the local resolver, with RD on.
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

/// The resolver's cache as last fetched.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CacheState {
    pub entries: Rc<Vec<CacheView>>,
    /// Page clock of the fetch: the TTLs count down from there.
    pub fetched_at: f64,
    pub error: Option<String>,
}

/// What the query builder and the panes around it can change.
#[derive(Debug, Clone, PartialEq)]
pub enum FormAction {
    /// The form's fields (type, flags, EDNS, a new ID) as a whole spec.
    Spec(QuerySpec),
    /// Typed in the name field.
    Name(String),
    /// Typed in the ID field.
    Id(String),
    /// Typed in the hex editor.
    Hex(String),
    /// A bit of the flags word clicked.
    FlagBit(u8),
    /// Typed in the one-liner; `known` are the catalog's DNS servers, to
    /// read its `@server`.
    OneLiner {
        text: String,
        known: Vec<String>,
    },
    Server(String),
    Transport(Transport),
    /// A mode tab; recursive needs the resolver in the catalog.
    Mode {
        mode: Mode,
        has_resolver: bool,
    },
    /// "Follow" on a referral: the next query, with the fresh ID `id`.
    Follow {
        hop: NextHop,
        id: u16,
    },
    /// A message clicked, or back to the draft.
    Select(Option<Selected>),
    /// The resolver's cache fetched at `at`, or why it could not be.
    Cache {
        entries: Result<Vec<CacheView>, String>,
        at: f64,
    },
}

/// The first query of the page: the course's example, iteratively.
pub fn first_spec(id: u16) -> QuerySpec {
    let mut spec = QuerySpec::new(
        Name::parse("gaia.cs.umass.edu").unwrap_or_default(),
        RecordType::A,
        id,
    );
    spec.recursion_desired = false;
    spec.server = Some(ROOT.into());
    spec
}

pub fn query_transport(t: Transport) -> QueryTransport {
    match t {
        Transport::Udp => QueryTransport::Udp,
        Transport::Tcp => QueryTransport::Tcp,
    }
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

impl DnsLab {
    pub(super) fn apply_form(&mut self, action: FormAction) {
        match action {
            FormAction::Spec(spec) => {
                self.draft.set_spec(spec);
                self.prepared = None;
            }
            FormAction::Name(text) => {
                self.draft.set_name_text(&text);
                self.prepared = None;
            }
            FormAction::Id(text) => self.draft.set_id_text(&text),
            FormAction::Hex(text) => {
                self.draft.set_hex(&text);
                self.prepared = None;
            }
            FormAction::FlagBit(bit) => self.draft.toggle_flag_bit(bit),
            FormAction::OneLiner { text, known } => self.one_liner(&text, &known),
            FormAction::Server(server) => {
                self.server_note = None;
                self.choose_server(server, self.transport);
            }
            FormAction::Transport(t) => self.choose_server(self.server.clone(), t),
            FormAction::Mode { mode, has_resolver } => self.set_mode(mode, has_resolver),
            FormAction::Follow { hop, id } => self.follow(hop, id),
            FormAction::Select(selected) => self.selected = selected,
            FormAction::Cache { entries, at } => {
                self.cache = match entries {
                    Ok(entries) => CacheState {
                        entries: Rc::new(entries),
                        fetched_at: at,
                        error: None,
                    },
                    Err(e) => CacheState {
                        error: Some(e),
                        ..CacheState::default()
                    },
                }
            }
        }
    }

    /// Sets the draft, the server and the transport together, so the
    /// one-liner's `@server` and `+tcp` always say where the query goes.
    fn commit(&mut self, mut draft: Draft, server: String, transport: Transport) {
        draft.spec.server = Some(server.clone());
        draft.spec.transport = query_transport(transport);
        self.draft = draft;
        self.server = server;
        self.transport = transport;
    }

    fn choose_server(&mut self, server: String, transport: Transport) {
        let mut d = self.draft.clone();
        d.spec.server = Some(server.clone());
        d.spec.transport = query_transport(transport);
        d.one_liner = d.spec.to_one_liner();
        d.one_liner_error = None;
        self.commit(d, server, transport);
    }

    fn one_liner(&mut self, text: &str, known: &[String]) {
        let mut d = self.draft.clone();
        self.prepared = None;
        let Some(spec) = d.set_one_liner(text) else {
            self.commit(d, self.server.clone(), self.transport);
            return;
        };
        let wanted = match spec.transport {
            QueryTransport::Tcp => Transport::Tcp,
            QueryTransport::Udp => Transport::Udp,
        };
        let named = spec.server.clone().unwrap_or_else(|| self.server.clone());
        match server_from_text(&named, known) {
            Some((base, forced)) => {
                self.server_note = None;
                self.commit(d, base, forced.unwrap_or(wanted));
            }
            None => {
                self.server_note = Some(format!(
                    "@{named}: no DNS server of that name or address in the catalog"
                ));
                self.commit(d, self.server.clone(), wanted);
            }
        }
    }

    /// A mode tab: the draft is set for that mode (RD, server), and what
    /// the other mode left on screen goes.
    pub(super) fn set_mode(&mut self, mode: Mode, has_resolver: bool) {
        self.mode = mode;
        self.selected = None;
        self.prepared = None;
        self.server_note = None;
        self.outcome_shown = false;
        let base = match mode {
            Mode::Iterative => ROOT,
            Mode::Recursive if has_resolver => RESOLVER,
            Mode::Recursive => return,
        };
        let mut d = self.draft.clone();
        let mut spec = d.spec.clone();
        spec.recursion_desired = mode == Mode::Recursive;
        spec.server = Some(base.into());
        d.set_spec(spec);
        self.commit(d, base.into(), self.transport);
    }

    fn follow(&mut self, hop: NextHop, id: u16) {
        let Some(base) = hop.server.clone() else {
            return;
        };
        let mut spec = self.draft.spec.clone();
        spec.name = hop.question.name.clone();
        spec.qtype = hop.question.qtype;
        spec.qclass = hop.question.qclass;
        let mut spec = spec.next_hop(id);
        let t = if hop.tcp {
            Transport::Tcp
        } else {
            self.transport
        };
        spec.server = Some(base.clone());
        spec.transport = query_transport(t);
        let mut d = self.draft.clone();
        d.set_spec(spec);
        self.commit(d, base, t);
        self.prepared = Some(hop);
        self.selected = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::dns::lab::LabAction;
    use crate::pages::dns::lab::tests::step;

    fn form(lab: &mut DnsLab, action: FormAction) {
        lab.apply(LabAction::Form(action));
    }

    fn known() -> Vec<String> {
        ["dns", "dns-root", "dns-edu", "dns-cs-umass"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_page_opens_on_the_course_example_at_the_root() {
        let lab = DnsLab::new(7);
        assert_eq!(lab.server, ROOT);
        assert_eq!(lab.mode, Mode::Iterative);
        assert_eq!(lab.transport, Transport::Udp);
        assert!(!lab.draft.spec.recursion_desired);
        assert_eq!(lab.draft.spec.id, 7);
        assert!(lab.draft.one_liner.starts_with("gaia.cs.umass.edu"));
    }

    #[test]
    fn the_form_fields_rewrite_the_draft() {
        let mut lab = DnsLab::new(1);
        let mut spec = lab.draft.spec.clone();
        spec.qtype = RecordType::MX;
        form(&mut lab, FormAction::Spec(spec));
        assert_eq!(lab.draft.spec.qtype, RecordType::MX);
        form(&mut lab, FormAction::Name("www.ibm.com".into()));
        assert_eq!(lab.draft.spec.name.to_string(), "www.ibm.com.");
        form(&mut lab, FormAction::Id("4660".into()));
        assert_eq!(&lab.draft.bytes[..2], &[0x12, 0x34]);
        // RD is bit 7 of the flags word counted from QR.
        form(&mut lab, FormAction::FlagBit(7));
        assert!(lab.draft.spec.recursion_desired);
        let hex = lab.draft.hex_text.replacen("12 34", "ab cd", 1);
        form(&mut lab, FormAction::Hex(hex));
        assert_eq!(lab.draft.spec.id, 0xabcd);
    }

    #[test]
    fn servers_and_transports_follow_the_one_liner_and_the_selects() {
        let mut lab = DnsLab::new(1);
        form(
            &mut lab,
            FormAction::OneLiner {
                text: "gaia.cs.umass.edu A @dns-edu-tcp".into(),
                known: known(),
            },
        );
        assert_eq!(
            (lab.server.as_str(), lab.transport),
            ("dns-edu", Transport::Tcp)
        );
        form(
            &mut lab,
            FormAction::OneLiner {
                text: "gaia.cs.umass.edu A @nowhere".into(),
                known: known(),
            },
        );
        assert!(lab.server_note.as_deref().unwrap().contains("@nowhere"));
        assert_eq!(lab.server, "dns-edu", "the server stays");
        form(&mut lab, FormAction::Server("dns-cs-umass".into()));
        assert!(lab.server_note.is_none());
        assert!(lab.draft.one_liner.contains("@dns-cs-umass"));
        form(&mut lab, FormAction::Transport(Transport::Udp));
        assert_eq!(lab.transport, Transport::Udp);
        assert_eq!(lab.draft.spec.transport, QueryTransport::Udp);
        assert_eq!(
            server_from_text("a.root-servers.net", &known()),
            Some(("dns-root".into(), None))
        );
        assert_eq!(
            server_from_text("127.0.0.21", &known()),
            Some(("dns-cs-umass".into(), None))
        );
        assert_eq!(server_from_text("127.0.0.12", &known()), None);
    }

    #[test]
    fn a_mode_change_clears_what_the_other_mode_left() {
        let mut lab = DnsLab::new(1);
        step(&mut lab, ROOT, Transport::Udp, None, 0.0);
        let hop = lab.walk.as_ref().unwrap().next_hops().remove(0);
        form(
            &mut lab,
            FormAction::Follow {
                hop: hop.clone(),
                id: 99,
            },
        );
        assert_eq!(lab.prepared, Some(hop));
        assert_eq!(lab.server, "dns-edu");
        assert_eq!(lab.draft.spec.id, 99);
        form(&mut lab, FormAction::Select(Some(Selected::Walk(1))));
        lab.server_note = Some("a note".into());
        lab.outcome_shown = true;
        form(
            &mut lab,
            FormAction::Mode {
                mode: Mode::Recursive,
                has_resolver: true,
            },
        );
        assert_eq!(lab.mode, Mode::Recursive);
        assert_eq!(lab.server, RESOLVER);
        assert!(lab.draft.spec.recursion_desired);
        assert!(lab.prepared.is_none() && lab.selected.is_none());
        assert!(lab.server_note.is_none() && lab.outcome().is_none());
        // Without a resolver the tab changes but the draft stays.
        form(
            &mut lab,
            FormAction::Mode {
                mode: Mode::Iterative,
                has_resolver: false,
            },
        );
        assert_eq!(lab.server, ROOT);
        form(
            &mut lab,
            FormAction::Mode {
                mode: Mode::Recursive,
                has_resolver: false,
            },
        );
        assert_eq!(lab.server, ROOT);
    }

    #[test]
    fn a_hop_without_a_catalog_server_is_not_followed() {
        let mut lab = DnsLab::new(1);
        step(&mut lab, ROOT, Transport::Udp, None, 0.0);
        let mut hop = lab.walk.as_ref().unwrap().next_hops().remove(0);
        hop.server = None;
        let before = lab.clone();
        form(&mut lab, FormAction::Follow { hop, id: 5 });
        assert_eq!(lab, before);
    }

    #[test]
    fn the_cache_is_kept_with_the_time_it_was_fetched() {
        let mut lab = DnsLab::new(1);
        form(
            &mut lab,
            FormAction::Cache {
                entries: Ok(Vec::new()),
                at: 42.0,
            },
        );
        assert_eq!(lab.cache.fetched_at, 42.0);
        form(
            &mut lab,
            FormAction::Cache {
                entries: Err("HTTP 500".into()),
                at: 43.0,
            },
        );
        assert_eq!(lab.cache.error.as_deref(), Some("HTTP 500"));
        assert!(lab.cache.entries.is_empty());
    }
}
