//! The HTTP workbench's state as one plain-Rust reducer: the target
//! chosen, the template loaded, the request being written, its line
//! endings, whether it goes through the web cache, and the message shown
//! in the inspector. The connection's
//! transcript is the connection's ([`crate::session`]); this is the rest.
//!
//! What belongs to a template, a mode or a target goes when it changes:
//! loading a template, switching line endings or choosing another server
//! puts the inspector back on the draft, so no earlier response (nor its
//! bytes "as it arrived") stays on screen beside a request it did not
//! answer.
//!
//! Through the web cache, the connection goes to the proxy and the request
//! line names the origin in absolute form (`GET http://127.0.0.1:8081/...`);
//! every template loaded meanwhile is rewritten the same way.

use std::rc::Rc;
use wirelab_shared::http::draft::{
    draft_bytes, fix_content_length, to_absolute_form, to_origin_form,
};
use wirelab_shared::http::templates::{ETAG_PLACEHOLDER, TEMPLATES, find, with_info_hash};
use yew::Reducible;

/// The template the page opens with.
pub const FIRST_TEMPLATE: &str = "someschool";

#[derive(Debug, Clone, PartialEq)]
pub struct HttpLab {
    /// The catalog name picked; `None` until the student picks one.
    pub chosen: Option<String>,
    /// The id of the template last loaded.
    pub template: String,
    /// The request as typed, with `\n` line breaks.
    pub text: String,
    /// Every line break goes out as CR LF (else as a bare LF).
    pub crlf_endings: bool,
    /// The transcript message shown in the inspector instead of the draft.
    pub selected: Option<usize>,
    /// Through the web cache: the origin's `host:port` the request line
    /// names; `None` when the request goes straight to the server.
    pub via_cache: Option<String>,
}

impl Default for HttpLab {
    fn default() -> Self {
        HttpLab {
            chosen: None,
            template: FIRST_TEMPLATE.into(),
            text: find(FIRST_TEMPLATE)
                .map(|t| t.text.to_string())
                .unwrap_or_default(),
            crlf_endings: true,
            selected: None,
            via_cache: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum HttpAction {
    /// Another server picked.
    Target(String),
    /// A template chosen; `etag` is the last ETag the server sent, for the
    /// conditional-GET template.
    Template { id: String, etag: Option<String> },
    /// Typed in the editor.
    Text(String),
    /// CR LF or bare LF.
    Endings { crlf: bool },
    /// "Fix Content-Length".
    FixLength,
    /// The draft went out (or was queued until the connection opens).
    Sent,
    /// A message clicked (in the transcript or the timeline), or back to
    /// the draft.
    Select(Option<usize>),
    /// The transcript was emptied: its messages are gone.
    Cleared,
    /// Through the web cache to this origin (`host:port`), or straight to
    /// the server (`None`).
    ViaCache(Option<String>),
    /// A running swarm's info hash, for the tracker template's placeholder.
    InfoHash([u8; 20]),
}

impl HttpLab {
    /// The bytes the draft becomes.
    pub fn draft(&self) -> Vec<u8> {
        draft_bytes(&self.text, self.crlf_endings)
    }

    /// The note of the template loaded.
    pub fn note(&self) -> Option<&'static str> {
        TEMPLATES
            .iter()
            .find(|t| t.id == self.template)
            .map(|t| t.note)
    }

    pub fn apply(&mut self, action: HttpAction) {
        match action {
            HttpAction::Target(name) => {
                self.chosen = Some(name);
                self.selected = None;
            }
            HttpAction::Template { id, etag } => self.load(id, etag),
            HttpAction::Text(text) => {
                self.text = text;
                self.selected = None;
            }
            HttpAction::Endings { crlf } => {
                self.crlf_endings = crlf;
                self.selected = None;
            }
            HttpAction::FixLength => {
                self.text = fix_content_length(&self.text, self.crlf_endings);
                self.selected = None;
            }
            HttpAction::Sent | HttpAction::Cleared => self.selected = None,
            HttpAction::Select(selected) => self.selected = selected,
            HttpAction::InfoHash(hash) => self.text = with_info_hash(&self.text, &hash),
            HttpAction::ViaCache(origin) => {
                self.text = match &origin {
                    Some(authority) => to_absolute_form(&self.text, authority),
                    None => to_origin_form(&self.text),
                };
                self.via_cache = origin;
                self.selected = None;
            }
        }
    }

    /// Loads template `id` (an unknown id changes nothing).
    fn load(&mut self, id: String, etag: Option<String>) {
        let Some(t) = find(&id) else {
            return;
        };
        let mut text = t.text.to_string();
        if let Some(etag) = etag.filter(|_| text.contains(ETAG_PLACEHOLDER)) {
            text = text.replace(ETAG_PLACEHOLDER, &etag);
        }
        if let Some(authority) = &self.via_cache {
            text = to_absolute_form(&text, authority);
        }
        self.text = text;
        self.template = id;
        self.selected = None;
    }
}

impl Reducible for HttpLab {
    type Action = HttpAction;

    fn reduce(self: Rc<Self>, action: HttpAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_a_response_shown() -> HttpLab {
        let mut lab = HttpLab::default();
        lab.apply(HttpAction::Select(Some(1)));
        assert_eq!(lab.selected, Some(1));
        lab
    }

    #[test]
    fn the_page_opens_on_the_first_template() {
        let lab = HttpLab::default();
        assert_eq!(lab.template, FIRST_TEMPLATE);
        assert!(lab.note().is_some());
        assert!(
            lab.draft()
                .starts_with(b"GET /somedir/page.html HTTP/1.1\r\n")
        );
    }

    #[test]
    fn a_template_replaces_the_text_note_and_inspector() {
        let mut lab = with_a_response_shown();
        let before = lab.note();
        lab.apply(HttpAction::Template {
            id: "kiwi".into(),
            etag: None,
        });
        assert_eq!(lab.template, "kiwi");
        assert_eq!(lab.text, find("kiwi").unwrap().text);
        assert_ne!(lab.note(), before);
        assert_eq!(lab.selected, None);
        // An unknown template changes nothing.
        let kept = with_a_response_shown();
        let mut lab = kept.clone();
        lab.apply(HttpAction::Template {
            id: "nope".into(),
            etag: None,
        });
        assert_eq!(lab, kept);
    }

    #[test]
    fn the_tracker_template_gets_the_swarms_info_hash() {
        let mut lab = HttpLab::default();
        lab.apply(HttpAction::Template {
            id: "tracker-announce".into(),
            etag: None,
        });
        assert!(lab.text.contains("PASTE-THE-INFO-HASH"));
        lab.apply(HttpAction::InfoHash([0x01; 20]));
        assert!(
            lab.text
                .contains(&format!("info_hash={}&", "%01".repeat(20)))
        );
    }

    #[test]
    fn the_etag_template_gets_the_last_etag() {
        let mut lab = HttpLab::default();
        lab.apply(HttpAction::Template {
            id: "kiwi-etag".into(),
            etag: Some("\"abc\"".into()),
        });
        assert!(lab.text.contains("\"abc\""), "{}", lab.text);
        assert!(!lab.text.contains(ETAG_PLACEHOLDER));
        // Other templates have no placeholder to fill.
        lab.apply(HttpAction::Template {
            id: "kiwi".into(),
            etag: Some("\"abc\"".into()),
        });
        assert!(!lab.text.contains("\"abc\""));
    }

    #[test]
    fn a_target_or_a_line_ending_puts_the_inspector_back_on_the_draft() {
        let mut lab = with_a_response_shown();
        lab.apply(HttpAction::Target("http".into()));
        assert_eq!((lab.chosen.as_deref(), lab.selected), (Some("http"), None));
        let mut lab = with_a_response_shown();
        lab.apply(HttpAction::Endings { crlf: false });
        assert!(!lab.crlf_endings && lab.selected.is_none());
        assert!(!lab.draft().contains(&b'\r'));
    }

    #[test]
    fn editing_fixing_sending_and_clearing_show_the_draft() {
        let mut lab = with_a_response_shown();
        lab.apply(HttpAction::Text(
            "POST / HTTP/1.1\nContent-Length: 1\n\nabc".into(),
        ));
        assert_eq!(lab.selected, None);
        lab.apply(HttpAction::Select(Some(0)));
        lab.apply(HttpAction::FixLength);
        assert!(lab.text.contains("Content-Length: 3"), "{}", lab.text);
        assert_eq!(lab.selected, None);
        for action in [HttpAction::Sent, HttpAction::Cleared] {
            lab.apply(HttpAction::Select(Some(2)));
            lab.apply(action);
            assert_eq!(lab.selected, None);
        }
    }

    #[test]
    fn through_the_cache_the_request_line_names_the_origin() {
        let mut lab = with_a_response_shown();
        lab.apply(HttpAction::Template {
            id: "cache-fresh".into(),
            etag: None,
        });
        lab.apply(HttpAction::ViaCache(Some("127.0.0.1:8081".into())));
        assert_eq!(lab.selected, None);
        assert!(
            lab.draft()
                .starts_with(b"GET http://127.0.0.1:8081/cache/fresh.txt?max-age=2 HTTP/1.1\r\n"),
            "{}",
            lab.text
        );
        // A template loaded meanwhile goes through the cache too.
        lab.apply(HttpAction::Template {
            id: "kiwi".into(),
            etag: None,
        });
        assert!(
            lab.text
                .starts_with("GET http://127.0.0.1:8081/fruit/kiwi.gif HTTP/1.0\n"),
            "{}",
            lab.text
        );
        // Another origin, then straight to the server again.
        lab.apply(HttpAction::ViaCache(Some("127.0.0.2:80".into())));
        assert!(
            lab.text
                .starts_with("GET http://127.0.0.2:80/fruit/kiwi.gif ")
        );
        lab.apply(HttpAction::ViaCache(None));
        assert_eq!(lab.via_cache, None);
        assert_eq!(lab.text, find("kiwi").unwrap().text);
    }
}
