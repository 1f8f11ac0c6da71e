//! The IMAP page's own state beside the workbench, as a plain reducer:
//! which POP3 habit the comparison shows, and the command the page last
//! put in the editor (a section's `BODY.PEEK`, a `BODYSTRUCTURE` fetch).
//! The mailbox itself is not kept here: it is read from the session's
//! transcript on every render ([`wirelab_shared::imap::client_view`]).

use crate::pages::workbench::DraftFill;
use std::rc::Rc;
use wirelab_shared::imap::pop3_compare::Pop3Habit;
use yew::Reducible;

#[derive(Debug, Clone, PartialEq)]
pub struct ImapViewState {
    pub habit: Pop3Habit,
    /// The line for the editor; its generation grows with each one, so
    /// the same line asked for twice is put there twice.
    pub fill: Option<DraftFill>,
}

impl Default for ImapViewState {
    fn default() -> Self {
        ImapViewState {
            habit: Pop3Habit::DownloadAndDelete,
            fill: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ImapViewAction {
    Habit(Pop3Habit),
    /// Put this command in the editor.
    Fill(String),
}

impl ImapViewState {
    pub fn apply(&mut self, action: ImapViewAction) {
        match action {
            ImapViewAction::Habit(habit) => self.habit = habit,
            ImapViewAction::Fill(line) => {
                let generation = self.fill.as_ref().map_or(0, |f| f.generation) + 1;
                self.fill = Some(DraftFill {
                    generation,
                    line: line.into(),
                });
            }
        }
    }
}

impl Reducible for ImapViewState {
    type Action = ImapViewAction;

    fn reduce(self: Rc<Self>, action: ImapViewAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

/// The command fetching `section` of a message without setting `\Seen`:
/// by UID when the client knows it (numbers shift when messages are
/// expunged), else by number. An empty section is the whole message.
pub fn fetch_section_line(tag: &str, number: u32, uid: Option<u32>, section: &str) -> String {
    match uid {
        Some(uid) => format!("{tag} UID FETCH {uid} BODY.PEEK[{section}]"),
        None => format!("{tag} FETCH {number} BODY.PEEK[{section}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_count_up_so_the_same_line_is_put_in_again() {
        let mut s = ImapViewState::default();
        assert_eq!(s.habit, Pop3Habit::DownloadAndDelete);
        s.apply(ImapViewAction::Fill("a004 FETCH 1 BODYSTRUCTURE".into()));
        let first = s.fill.clone().unwrap();
        s.apply(ImapViewAction::Fill("a004 FETCH 1 BODYSTRUCTURE".into()));
        let second = s.fill.clone().unwrap();
        assert_eq!(first.line, second.line);
        assert_eq!((first.generation, second.generation), (1, 2));
        assert_ne!(first, second);
        s.apply(ImapViewAction::Habit(Pop3Habit::LeaveOnServer));
        assert_eq!(s.habit, Pop3Habit::LeaveOnServer);
        assert_eq!(s.fill, Some(second));
    }

    #[test]
    fn a_section_is_fetched_by_uid_when_known() {
        assert_eq!(
            fetch_section_line("a005", 2, Some(9), "1.2"),
            "a005 UID FETCH 9 BODY.PEEK[1.2]"
        );
        assert_eq!(
            fetch_section_line("a005", 2, None, "HEADER"),
            "a005 FETCH 2 BODY.PEEK[HEADER]"
        );
        assert_eq!(
            fetch_section_line("a006", 3, None, ""),
            "a006 FETCH 3 BODY.PEEK[]"
        );
    }
}
