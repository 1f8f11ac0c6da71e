//! The line workbench's state as one plain-Rust reducer: the target
//! chosen, the line being typed, what Enter appends to it, the message
//! shown in the inspector, and the course's dialogue being replayed. The
//! connection's transcript is the connection's ([`crate::session`]).
//!
//! What belongs to a dialogue, a target or a session goes when it
//! changes: another dialogue starts from its first line with an empty
//! editor, another target gets its transport's line ending back, and
//! either (or a new connection) puts the inspector back on the draft.

use super::workbench::LineEnding;
use std::rc::Rc;
use wirelab_shared::conversation::Dialogue;
use wirelab_shared::relay_protocol::Transport;
use yew::Reducible;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineLab {
    /// The catalog name picked; `None` until the student picks one.
    pub chosen: Option<String>,
    /// The line being typed, without its ending.
    pub draft: String,
    /// What Enter appends, when the student chose; else the transport's
    /// usual one.
    pub ending: Option<LineEnding>,
    /// The transcript message shown in the inspector instead of the draft.
    pub selected: Option<usize>,
    /// The dialogue being replayed; `None` while the student types freely.
    pub dialogue: Option<&'static Dialogue>,
    /// How many of its lines were put in the editor already.
    pub step: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineAction {
    /// Another target picked.
    Target(String),
    /// Connect pressed: a new session's transcript begins.
    Connect,
    /// Typed in the editor.
    Typed(String),
    /// The line went out.
    Sent,
    Ending(LineEnding),
    /// A message clicked, or back to the draft.
    Select(Option<usize>),
    /// Another dialogue chosen in the replay bar (`None`: type freely).
    Dialogue(Option<&'static Dialogue>),
    /// "Next line" of the replay.
    NextLine,
    /// The transcript was emptied.
    Cleared,
}

impl LineLab {
    /// What Enter appends on `transport`.
    pub fn ending_for(&self, transport: Transport) -> LineEnding {
        self.ending
            .unwrap_or_else(|| LineEnding::default_for(transport))
    }

    pub fn apply(&mut self, action: LineAction) {
        match action {
            LineAction::Target(name) => {
                self.chosen = Some(name);
                self.ending = None;
                self.selected = None;
            }
            LineAction::Connect | LineAction::Cleared => self.selected = None,
            LineAction::Typed(text) => {
                self.draft = text;
                self.selected = None;
            }
            LineAction::Sent => {
                self.draft.clear();
                self.selected = None;
            }
            LineAction::Ending(ending) => self.ending = Some(ending),
            LineAction::Select(selected) => self.selected = selected,
            LineAction::Dialogue(dialogue) => {
                if dialogue != self.dialogue {
                    self.dialogue = dialogue;
                    self.step = 0;
                    self.draft.clear();
                    self.selected = None;
                }
            }
            LineAction::NextLine => self.next_line(),
        }
    }

    /// Puts the replay's next line in the editor.
    fn next_line(&mut self) {
        if let Some(line) = self.dialogue.and_then(|d| d.steps.get(self.step)) {
            self.draft = line.to_string();
            self.step += 1;
            self.selected = None;
        }
    }
}

impl Reducible for LineLab {
    type Action = LineAction;

    fn reduce(self: Rc<Self>, action: LineAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: Dialogue = Dialogue {
        id: "hello",
        title: "Hello",
        note: "say hello",
        steps: &["HELO crepes.fr", "QUIT"],
    };
    const OTHER: Dialogue = Dialogue {
        id: "other",
        title: "Other",
        note: "another",
        steps: &["NOOP"],
    };

    fn showing_a_message() -> LineLab {
        LineLab {
            selected: Some(3),
            ..LineLab::default()
        }
    }

    #[test]
    fn a_target_gets_its_own_line_ending_and_shows_the_draft() {
        let mut lab = showing_a_message();
        lab.apply(LineAction::Ending(LineEnding::Lf));
        assert_eq!(lab.ending_for(Transport::Tcp), LineEnding::Lf);
        lab.apply(LineAction::Target("upper-udp".into()));
        assert_eq!(lab.chosen.as_deref(), Some("upper-udp"));
        assert_eq!(lab.ending_for(Transport::Udp), LineEnding::None);
        assert_eq!(lab.ending_for(Transport::Tcp), LineEnding::CrLf);
        assert_eq!(lab.selected, None);
    }

    #[test]
    fn typing_sending_connecting_and_clearing_show_the_draft() {
        let mut lab = showing_a_message();
        lab.apply(LineAction::Typed("hello".into()));
        assert_eq!((lab.draft.as_str(), lab.selected), ("hello", None));
        lab.apply(LineAction::Select(Some(1)));
        assert_eq!(lab.selected, Some(1));
        lab.apply(LineAction::Sent);
        assert_eq!((lab.draft.as_str(), lab.selected), ("", None));
        for action in [LineAction::Connect, LineAction::Cleared] {
            lab.apply(LineAction::Select(Some(0)));
            lab.apply(action);
            assert_eq!(lab.selected, None);
        }
    }

    #[test]
    fn a_replay_puts_its_lines_in_the_editor_one_at_a_time() {
        let mut lab = LineLab::default();
        lab.apply(LineAction::NextLine);
        assert_eq!(lab.draft, "", "nothing to replay");
        lab.apply(LineAction::Dialogue(Some(&HELLO)));
        lab.apply(LineAction::NextLine);
        assert_eq!((lab.draft.as_str(), lab.step), ("HELO crepes.fr", 1));
        lab.apply(LineAction::Sent);
        lab.apply(LineAction::NextLine);
        lab.apply(LineAction::NextLine);
        assert_eq!(
            (lab.draft.as_str(), lab.step),
            ("QUIT", 2),
            "no line past the last"
        );
    }

    #[test]
    fn another_dialogue_starts_afresh() {
        let mut lab = LineLab::default();
        lab.apply(LineAction::Dialogue(Some(&HELLO)));
        lab.apply(LineAction::NextLine);
        lab.apply(LineAction::Select(Some(2)));
        lab.apply(LineAction::Dialogue(Some(&OTHER)));
        assert_eq!(lab.dialogue, Some(&OTHER));
        assert_eq!((lab.step, lab.draft.as_str(), lab.selected), (0, "", None));
        // Choosing the same dialogue again keeps its place.
        lab.apply(LineAction::NextLine);
        lab.apply(LineAction::Dialogue(Some(&OTHER)));
        assert_eq!((lab.step, lab.draft.as_str()), (1, "NOOP"));
        lab.apply(LineAction::Dialogue(None));
        assert_eq!((lab.dialogue, lab.step, lab.draft.as_str()), (None, 0, ""));
    }
}
