//! The SMTP compose helper's state as one plain-Rust reducer: whether it
//! is open, the fields a mail program asks for (a [`Draft`] of
//! `wirelab_shared::mail::compose`, with its Date and Message-ID fixed per
//! message so the preview is what is sent), and why the last file could
//! not be attached.

use std::rc::Rc;
use wirelab_shared::mail::compose::{Attachment, Draft};
use yew::Reducible;

#[derive(Debug, Clone, PartialEq)]
pub struct ComposeLab {
    pub open: bool,
    pub draft: Draft,
    pub file_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ComposeAction {
    Toggle,
    From(String),
    To(String),
    Subject(String),
    Body(String),
    /// A file read for attaching, or why it could not be.
    File(Result<Attachment, String>),
    RemoveFile,
    /// The message went out: the next one gets its own Date and
    /// Message-ID.
    Sent {
        date_unix: i64,
        unique: String,
    },
}

impl ComposeLab {
    /// The course's message from Alice to Bob, stamped `date_unix` and
    /// `unique`.
    pub fn new(date_unix: i64, unique: String) -> ComposeLab {
        ComposeLab {
            open: false,
            draft: Draft {
                from: "Alice <alice@crepes.fr>".into(),
                to: "Bob <bob@hamburger.edu>".into(),
                subject: "Ketchup and pickles".into(),
                body: "Do you like ketchup?\nHow about pickles?\n".into(),
                attachment: None,
                date_unix: Some(date_unix),
                unique: Some(unique),
            },
            file_error: None,
        }
    }

    pub fn apply(&mut self, action: ComposeAction) {
        let d = &mut self.draft;
        match action {
            ComposeAction::Toggle => self.open = !self.open,
            ComposeAction::From(v) => d.from = v,
            ComposeAction::To(v) => d.to = v,
            ComposeAction::Subject(v) => d.subject = v,
            ComposeAction::Body(v) => d.body = v,
            ComposeAction::File(Ok(file)) => {
                d.attachment = Some(file);
                self.file_error = None;
            }
            ComposeAction::File(Err(why)) => self.file_error = Some(why),
            ComposeAction::RemoveFile => d.attachment = None,
            ComposeAction::Sent { date_unix, unique } => {
                d.date_unix = Some(date_unix);
                d.unique = Some(unique);
            }
        }
    }
}

impl Reducible for ComposeLab {
    type Action = ComposeAction;

    fn reduce(self: Rc<Self>, action: ComposeAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Attachment {
        Attachment {
            filename: "a.png".into(),
            media_type: "image/png".into(),
            bytes: vec![1, 2, 3],
        }
    }

    #[test]
    fn the_fields_and_the_toggle() {
        let mut lab = ComposeLab::new(1, "u".into());
        assert!(!lab.open);
        lab.apply(ComposeAction::Toggle);
        assert!(lab.open);
        lab.apply(ComposeAction::From("a@b".into()));
        lab.apply(ComposeAction::To("c@d".into()));
        lab.apply(ComposeAction::Subject("s".into()));
        lab.apply(ComposeAction::Body("b".into()));
        let d = &lab.draft;
        assert_eq!(
            (
                d.from.as_str(),
                d.to.as_str(),
                d.subject.as_str(),
                d.body.as_str()
            ),
            ("a@b", "c@d", "s", "b")
        );
        lab.apply(ComposeAction::Toggle);
        assert!(!lab.open);
    }

    #[test]
    fn a_file_is_attached_refused_or_removed() {
        let mut lab = ComposeLab::new(1, "u".into());
        lab.apply(ComposeAction::File(Err("too big".into())));
        assert_eq!(lab.file_error.as_deref(), Some("too big"));
        lab.apply(ComposeAction::File(Ok(file())));
        assert_eq!(lab.draft.attachment, Some(file()));
        assert!(lab.file_error.is_none());
        lab.apply(ComposeAction::RemoveFile);
        assert!(lab.draft.attachment.is_none());
    }

    #[test]
    fn each_message_sent_gets_a_new_stamp() {
        let mut lab = ComposeLab::new(1, "u".into());
        let before = lab.draft.clone();
        lab.apply(ComposeAction::Sent {
            date_unix: 2,
            unique: "v".into(),
        });
        assert_eq!(lab.draft.date_unix, Some(2));
        assert_eq!(lab.draft.unique.as_deref(), Some("v"));
        assert_eq!(lab.draft.body, before.body, "the text stays");
    }
}
