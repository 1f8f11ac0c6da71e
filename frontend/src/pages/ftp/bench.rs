//! The FTP workbench's own state, part of the one [`FtpLab`] reducer: the
//! server chosen, the command being typed, the message shown in the
//! inspector, the course's dialogue being replayed, the file chosen for
//! STOR, and the notice of the last thing that could not be done.
//!
//! What belongs to a dialogue or a session goes when it changes: another
//! dialogue starts from its first line with an empty editor, and a new
//! connection puts the inspector back on the draft and drops the notice.

use super::driver::Upload;
use super::lab::FtpLab;
use super::upload_name;
use super::view::Pick;
use wirelab_shared::conversation::Dialogue;
use wirelab_shared::ftp::dialogues::PORT_STEP;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bench {
    /// The catalog name picked; `None` until the student picks one.
    pub chosen: Option<String>,
    /// The command being typed, without CR LF.
    pub draft: String,
    /// The message shown in the inspector instead of the draft.
    pub selected: Option<Pick>,
    /// The dialogue being replayed; `None` while the student types freely.
    pub dialogue: Option<&'static Dialogue>,
    /// How many of its lines were put in the editor already.
    pub step: usize,
    /// The local file STOR and APPE send.
    pub upload: Option<Upload>,
    /// What could not be done (a file that cannot be read, no listening
    /// socket for PORT).
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BenchAction {
    /// Another server picked.
    Target(String),
    /// Connect pressed: a new control connection.
    Connect,
    /// Typed in the editor.
    Typed(String),
    /// The command went out.
    Sent,
    /// A message clicked, or back to the draft.
    Select(Option<Pick>),
    /// Another dialogue chosen (`None`: type freely).
    Dialogue(Option<&'static Dialogue>),
    /// "Next line" of the replay (the PORT line is written by the
    /// listening socket's offer, not from the dialogue).
    NextLine,
    /// A file chosen for STOR, or why it could not be read.
    File(Result<Upload, String>),
    ForgetFile,
    /// Something could not be done (`None`: it now could).
    Notice(Option<String>),
}

impl Bench {
    /// The line "Next line" would take from the dialogue.
    pub fn next_line(&self) -> Option<&'static str> {
        self.dialogue?.steps.get(self.step).copied()
    }
}

impl FtpLab {
    pub(super) fn apply_bench(&mut self, action: BenchAction) {
        let b = &mut self.bench;
        match action {
            BenchAction::Target(name) => {
                b.chosen = Some(name);
                b.selected = None;
            }
            BenchAction::Connect => {
                b.selected = None;
                b.notice = None;
            }
            BenchAction::Typed(text) => {
                b.draft = text;
                b.selected = None;
            }
            BenchAction::Sent => {
                b.draft.clear();
                b.selected = None;
            }
            BenchAction::Select(pick) => b.selected = pick,
            BenchAction::Dialogue(dialogue) => {
                if dialogue != b.dialogue {
                    b.dialogue = dialogue;
                    b.step = 0;
                    b.draft.clear();
                    b.selected = None;
                }
            }
            BenchAction::NextLine => {
                if let Some(line) = b.next_line() {
                    if line != PORT_STEP {
                        b.draft = line.to_string();
                    }
                    b.step += 1;
                    b.selected = None;
                }
            }
            BenchAction::File(Ok(file)) => {
                b.draft = format!("STOR {}", upload_name(&file.name));
                b.upload = Some(file);
                b.notice = None;
            }
            BenchAction::File(Err(why)) => b.notice = Some(why),
            BenchAction::ForgetFile => b.upload = None,
            BenchAction::Notice(notice) => b.notice = notice,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::ftp::lab::FtpAction;
    use std::rc::Rc;

    fn bench(lab: &mut FtpLab, action: BenchAction) {
        lab.apply(FtpAction::Bench(action));
    }

    const SESSION: Dialogue = Dialogue {
        id: "s",
        title: "S",
        note: "",
        steps: &["USER anonymous", PORT_STEP, "LIST"],
    };
    const OTHER: Dialogue = Dialogue {
        id: "o",
        title: "O",
        note: "",
        steps: &["PWD"],
    };

    #[test]
    fn typing_sending_and_selecting() {
        let mut lab = FtpLab::default();
        bench(&mut lab, BenchAction::Target("ftp".into()));
        assert_eq!(lab.bench.chosen.as_deref(), Some("ftp"));
        bench(&mut lab, BenchAction::Select(Some(Pick::Control(2))));
        bench(&mut lab, BenchAction::Typed("PWD".into()));
        assert_eq!(
            (lab.bench.draft.as_str(), lab.bench.selected),
            ("PWD", None)
        );
        bench(&mut lab, BenchAction::Select(Some(Pick::DataIn(1))));
        bench(&mut lab, BenchAction::Sent);
        assert_eq!((lab.bench.draft.as_str(), lab.bench.selected), ("", None));
    }

    #[test]
    fn a_new_connection_keeps_the_bench_but_not_its_selection_or_notice() {
        let mut lab = FtpLab::default();
        bench(&mut lab, BenchAction::Typed("LIST".into()));
        bench(&mut lab, BenchAction::Select(Some(Pick::Control(0))));
        bench(&mut lab, BenchAction::Notice(Some("no socket".into())));
        bench(&mut lab, BenchAction::Connect);
        lab.apply(FtpAction::Reset);
        assert_eq!(lab.bench.draft, "LIST");
        assert_eq!(
            (lab.bench.selected, lab.bench.notice.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn the_replay_skips_the_port_line_and_another_dialogue_starts_afresh() {
        let mut lab = FtpLab::default();
        bench(&mut lab, BenchAction::Dialogue(Some(&SESSION)));
        bench(&mut lab, BenchAction::NextLine);
        assert_eq!(lab.bench.draft, "USER anonymous");
        bench(&mut lab, BenchAction::Typed("USER me".into()));
        assert_eq!(lab.bench.next_line(), Some(PORT_STEP));
        bench(&mut lab, BenchAction::NextLine);
        // The listening socket writes the PORT line; the replay moves on.
        assert_eq!((lab.bench.draft.as_str(), lab.bench.step), ("USER me", 2));
        bench(&mut lab, BenchAction::Dialogue(Some(&OTHER)));
        assert_eq!((lab.bench.draft.as_str(), lab.bench.step), ("", 0));
        assert_eq!(lab.bench.next_line(), Some("PWD"));
    }

    #[test]
    fn a_listening_socket_writes_its_port_line() {
        let mut lab = FtpLab::default();
        lab.apply(FtpAction::Listening {
            addr: "127.0.0.1:40555".into(),
            channel: 1,
        });
        assert_eq!(lab.bench.draft, "PORT 127,0,0,1,158,107");
    }

    #[test]
    fn a_file_is_chosen_forgotten_or_refused() {
        let mut lab = FtpLab::default();
        let file = Upload {
            name: "my notes.txt".into(),
            bytes: Rc::new(b"hi".to_vec()),
        };
        bench(&mut lab, BenchAction::Notice(Some("old".into())));
        bench(&mut lab, BenchAction::File(Ok(file.clone())));
        assert_eq!(lab.bench.draft, "STOR my_notes.txt");
        assert_eq!(
            (lab.bench.upload.as_ref(), lab.bench.notice.as_deref()),
            (Some(&file), None)
        );
        bench(&mut lab, BenchAction::ForgetFile);
        assert!(lab.bench.upload.is_none());
        bench(&mut lab, BenchAction::File(Err("too big".into())));
        assert_eq!(lab.bench.notice.as_deref(), Some("too big"));
        bench(&mut lab, BenchAction::Notice(None));
        assert!(lab.bench.notice.is_none());
    }
}
