//! The course's FTP sessions as dialogues to replay on the control
//! connection, one line at a time: the anonymous session (USER, PASS, LIST,
//! RETR), the student account's upload (STOR), active mode, text versus
//! binary, and the replies that say no (530, 425, 550).
//!
//! The reference server's accounts are `anonymous` (any password, read-only)
//! and the student account of the relay's configuration (`student` /
//! `student` by default). A step equal to [`PORT_STEP`] is not sent as
//! written: the page asks the relay for a listening socket and writes the
//! PORT command for its address.

use crate::conversation::Dialogue;

/// The step that stands for "PORT with the address the relay listens on".
pub const PORT_STEP: &str = "PORT <the address the relay listens on>";

pub const DIALOGUES: &[Dialogue] = &[
    Dialogue {
        id: "anonymous",
        title: "The course's session: log in, LIST, RETR (anonymous, passive mode)",
        note: "USER and PASS log in (331, then 230). PASV makes the server listen: its 227 reply \
               names the port as p1,p2 = p1*256+p2, and the page opens a data connection to it. \
               LIST and RETR each travel on a new data connection, opened before the command and \
               closed by the server at the end (226), while the control connection stays open.",
        steps: &[
            "USER anonymous",
            "PASS guest@example.org",
            "PWD",
            "PASV",
            "LIST",
            "CWD pub",
            "PASV",
            "RETR hello.txt",
            "QUIT",
        ],
    },
    Dialogue {
        id: "student-upload",
        title: "The student account: STOR a file, then LIST it",
        note: "The student account may write (the password is the one of the lab's configuration, \
               student by default). Choose a file to upload first, or the page sends its short \
               text. STOR gets 150, the page sends the file on the data connection and closes it \
               (its FIN is the end of the file), then the server answers 226.",
        steps: &[
            "USER student",
            "PASS student",
            "CWD upload",
            "TYPE I",
            "PASV",
            "STOR my-upload.txt",
            "PASV",
            "LIST",
            "SIZE my-upload.txt",
            "QUIT",
        ],
    },
    Dialogue {
        id: "active",
        title: "Active mode: PORT, and the server connects to you",
        note: "In active mode the client listens and the server opens the data connection. The \
               page asks the relay to listen for it; the PORT line gives that address as six \
               numbers, the port split in two bytes (port = p1*256 + p2). After RETR, watch the \
               data connection arrive from the server's side in the timeline.",
        steps: &[
            "USER anonymous",
            "PASS guest@example.org",
            "TYPE I",
            PORT_STEP,
            "RETR pub/pixel.png",
            "QUIT",
        ],
    },
    Dialogue {
        id: "ascii-binary",
        title: "TYPE A versus TYPE I: the same file, two sizes",
        note: "bytes.bin holds the 256 byte values once each. In ASCII mode the server sends every \
               LF as CR LF, so 257 bytes arrive; in binary mode (TYPE I) the 256 bytes as stored.",
        steps: &[
            "USER anonymous",
            "PASS guest@example.org",
            "CWD pub",
            "TYPE A",
            "PASV",
            "RETR bytes.bin",
            "TYPE I",
            "PASV",
            "RETR bytes.bin",
            "QUIT",
        ],
    },
    Dialogue {
        id: "refusals",
        title: "When the server says no: 530, 425, 550",
        note: "A command before login gets 530. A transfer without PASV or PORT gets 425 Can't \
               open data connection (the course prints it with a typographic apostrophe). A file \
               that is not there gets 550, and so does an upload by the read-only anonymous user.",
        steps: &[
            "LIST",
            "USER anonymous",
            "PASS guest@example.org",
            "RETR pub/hello.txt",
            "PASV",
            "RETR no-such-file.txt",
            "PASV",
            "STOR upload/not-allowed.txt",
            "QUIT",
        ],
    },
];

/// The dialogue with this id.
pub fn find(id: &str) -> Option<&'static Dialogue> {
    DIALOGUES.iter().find(|d| d.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ftp::command::Command;

    #[test]
    fn every_step_is_a_command_the_parser_reads() {
        for d in DIALOGUES {
            for step in d.steps {
                if *step == PORT_STEP {
                    continue;
                }
                assert!(Command::parse(step.as_bytes()).is_ok(), "{}: {step}", d.id);
            }
        }
        assert!(find("anonymous").is_some());
        assert!(find("nope").is_none());
        // The course's five commands all appear.
        let all: Vec<&str> = DIALOGUES
            .iter()
            .flat_map(|d| d.steps.iter().copied())
            .collect();
        for verb in ["USER", "PASS", "LIST", "RETR", "STOR"] {
            assert!(all.iter().any(|s| s.starts_with(verb)), "{verb}");
        }
    }
}
