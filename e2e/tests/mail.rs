//! The mail workbenches in headless Chromium against the relay's SMTP and
//! POP3 servers: the course's ketchup-and-pickles mail typed line by line
//! on the SMTP page and read back on the POP3 page, and a message written
//! by the compose helper (encoded subject, an attached file) opened in the
//! mailbox view. Each test has its own relay, so bob's Maildir starts from
//! the course's two seed messages in the test's temporary data directory.
//! Without a relay, the page's own servers answer the same way.

use anyhow::Result;
use wirelab_e2e::{Browser, Lab, OfflineSite};

const RECEIVED: &str = "[data-testid=\"transcript-entry\"][data-direction=\"received\"]";

fn received_count(b: &Browser) -> Result<usize> {
    Ok(b.find_all(RECEIVED)?.len())
}

/// Types `line` in the line editor, sends it, and waits for one more reply
/// that contains `expect`.
fn exchange(b: &Browser, line: &str, expect: &str) -> Result<()> {
    let before = received_count(b)?;
    b.type_text(&b.testid("editor")?, line)?;
    b.click(&b.testid("send")?)?;
    b.wait_until(&format!("a reply to {line:?}"), || {
        Ok((received_count(b)? > before).then_some(()))
    })?;
    b.wait_text("transcript", expect)?;
    Ok(())
}

/// Opens `page` and connects its workbench to the server it offers.
fn connect(lab: &mut Lab, page: &str, greeting: &str) -> Result<()> {
    lab.open_online(page)?;
    let b = &lab.browser;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.wait_text("transcript", greeting)?;
    Ok(())
}

/// Waits until the server's store lists `count` messages for bob.
fn bob_has(b: &Browser, count: usize) -> Result<()> {
    let css = "[data-testid=\"server-mailbox\"][data-address=\"bob@hamburger.edu\"]";
    b.wait_until(&format!("bob's mailbox to hold {count} messages"), || {
        let Some(row) = b.find(css)? else {
            return Ok(None);
        };
        Ok(
            (b.attribute(&row, "data-messages")?.as_deref() == Some(&count.to_string()))
                .then_some(()),
        )
    })
}

#[test]
fn the_course_mail_is_sent_over_smtp_and_read_over_pop3() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    connect(&mut lab, "/smtp", "220 hamburger.edu")?;
    let b = &lab.browser;
    b.wait_attribute("protocol-state", "data-state", "connected")?;
    bob_has(b, 2)?;

    // The course's dialogue, replayed one line at a time.
    b.select_option("dialogue-select", "course")?;
    let steps = [
        (
            "HELO crepes.fr",
            Some("250 Hello crepes.fr, pleased to meet you"),
        ),
        ("MAIL FROM:<alice@crepes.fr>", Some("Sender ok")),
        ("RCPT TO:<bob@hamburger.edu>", Some("Recipient ok")),
        (
            "RCPT TO:<Johm@hamburger.edu>",
            Some("550 No such user here"),
        ),
        ("DATA", Some("354 Enter mail")),
        ("Do you like ketchup?", None),
        ("How about pickles?", None),
        (".", Some("250 Message accepted for delivery")),
        ("QUIT", Some("221 hamburger.edu closing connection")),
    ];
    let editor = b.testid("editor")?;
    for (line, reply) in steps {
        b.click(&b.testid("dialogue-next")?)?;
        b.wait_until(&format!("{line:?} in the editor"), || {
            Ok((b.property(&editor, "value")?.as_deref() == Some(line)).then_some(()))
        })?;
        let before = received_count(b)?;
        b.click(&b.testid("send")?)?;
        match reply {
            Some(reply) => {
                b.wait_until(&format!("the reply to {line:?}"), || {
                    Ok((received_count(b)? > before).then_some(()))
                })?;
                b.wait_text("transcript", reply)?;
            }
            // Message text: no reply, the text grows in the transcript.
            None => {
                b.wait_text("transcript", line)?;
                b.wait_attribute("protocol-state", "data-state", "receiving data")?;
            }
        }
        if line == "DATA" {
            b.wait_attribute("protocol-state", "data-state", "receiving data")?;
        }
    }
    b.wait_attribute("protocol-state", "data-state", "closed")?;
    // The 354 reply, opened in the dissection.
    let entries = b.find_all(RECEIVED)?;
    let mut go_ahead = None;
    for e in entries {
        if b.text(&e)?.contains("354 Enter mail") {
            go_ahead = Some(e);
        }
    }
    b.click(&go_ahead.expect("the 354 reply is in the transcript"))?;
    b.wait_text("dissection-summary", "354")?;
    b.wait_text("dissection", "354: Start mail input")?;
    b.wait_text("diagnostics", "answers DATA")?;
    bob_has(b, 3)?;

    // Bob reads it over POP3.
    connect(&mut lab, "/pop3", "+OK POP3 server ready")?;
    let b = &lab.browser;
    b.wait_attribute("protocol-state", "data-state", "AUTHORIZATION")?;
    exchange(b, "user bob", "+OK")?;
    exchange(b, "pass hungry", "+OK user successfully logged on")?;
    b.wait_attribute("protocol-state", "data-state", "TRANSACTION")?;
    exchange(b, "list", "+OK 3 messages")?;
    b.wait_text("transcript", "1 498␍␊2 912␍␊3 ")?;
    exchange(b, "retr 3", "+OK")?;
    // The retrieved message, opened in the transcript.
    let last = b.find_all(RECEIVED)?.pop().expect("the RETR reply");
    b.click(&last)?;
    b.wait_text("transcript", "Do you like ketchup?")?;
    b.wait_text("transcript", "How about pickles?")?;
    b.wait_text("dissection", "Envelope vs header")?;
    b.wait_attribute("protocol-state", "data-state", "TRANSACTION")?;
    // The mailbox view opens it too, with the envelope the server recorded.
    let part = b.wait_text("part-text", "Do you like ketchup?")?;
    assert!(part.contains("How about pickles?"), "{part}");
    let envelope = b.wait_text("mail-envelope", "MAIL FROM:<alice@crepes.fr>")?;
    assert!(
        envelope.contains("RCPT TO:<bob@hamburger.edu>"),
        "{envelope}"
    );
    Ok(())
}

#[test]
fn the_compose_helper_sends_mime_with_a_file_and_the_mailbox_view_opens_it() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("recette.txt");
    std::fs::write(&file, "flour, eggs, milk\n")?;

    connect(&mut lab, "/smtp", "220 hamburger.edu")?;
    let b = &lab.browser;
    b.click(&b.testid("compose-toggle")?)?;
    // Before DATA the block cannot be sent.
    let send = b.testid("compose-send")?;
    assert_eq!(b.property(&send, "disabled")?.as_deref(), Some("true"));
    b.type_text(&b.testid("compose-subject")?, ", ¡Hola, señor!")?;
    b.type_text(&b.testid("compose-file")?, &file.display().to_string())?;
    b.wait_text("compose-attachment", "recette.txt")?;
    let preview = b.wait_text("compose-preview", "filename=\"recette.txt\"")?;
    assert!(preview.contains("Subject: =?utf-8?Q?"), "{preview}");
    assert!(
        preview.contains("Content-Type: multipart/mixed"),
        "{preview}"
    );
    assert!(preview.trim_end().ends_with("␍␊\n.␍␊"), "{preview}");

    exchange(b, "EHLO crepes.fr", "250 HELP")?;
    exchange(b, "MAIL FROM:<alice@crepes.fr>", "Sender ok")?;
    exchange(b, "RCPT TO:<bob@hamburger.edu>", "Recipient ok")?;
    exchange(b, "DATA", "354")?;
    b.wait_attribute("protocol-state", "data-state", "receiving data")?;
    b.wait_until("the compose button to be enabled", || {
        Ok((b.property(&send, "disabled")?.as_deref() == Some("false")).then_some(()))
    })?;
    b.click(&send)?;
    b.wait_text("transcript", "Message accepted for delivery")?;
    b.wait_attribute("protocol-state", "data-state", "greeted")?;
    bob_has(b, 3)?;

    connect(&mut lab, "/pop3", "+OK POP3 server ready")?;
    let b = &lab.browser;
    exchange(b, "USER bob", "+OK")?;
    exchange(b, "PASS hungry", "logged on")?;
    // The view sends LIST and RETR on the session for the student.
    b.click(&b.testid("mailbox-list")?)?;
    let row = "[data-testid=\"mailbox-row\"][data-number=\"3\"]";
    b.wait_until("message 3 in the listing", || b.find(row))?;
    let retr = b
        .find(&format!("{row} [data-testid=\"mailbox-retr\"]"))?
        .expect("a RETR button");
    b.click(&retr)?;
    b.wait_text("transcript", "RETR 3")?;
    b.wait_text("mail-subject", "Ketchup and pickles, ¡Hola, señor!")?;
    let parts = b.wait_text("mail-parts", "recette.txt")?;
    assert!(parts.contains("multipart/mixed"), "{parts}");
    assert!(parts.contains("flour, eggs, milk"), "{parts}");
    let download = b.testid("part-download")?;
    assert_eq!(
        b.attribute(&download, "download")?.as_deref(),
        Some("recette.txt")
    );
    let headers = b.wait_text("mail-headers", "→ Ketchup and pickles, ¡Hola, señor!")?;
    assert!(headers.contains("Return-Path"), "{headers}");
    Ok(())
}

#[test]
fn without_a_relay_bob_reads_the_in_browser_mailbox() -> Result<()> {
    let Some(offline) = OfflineSite::open("/pop3")? else {
        return Ok(());
    };
    let b = &offline.browser;
    bob_has(b, 2)?;
    b.click(&b.testid("connect")?)?;
    b.wait_text("transcript", "+OK POP3 server ready")?;
    exchange(b, "USER bob", "+OK")?;
    exchange(b, "PASS hungry", "logged on")?;
    b.click(&b.testid("mailbox-list")?)?;
    b.wait_text("transcript", "1 498␍␊2 912␍␊.␍␊")?;
    let rows = b.wait_until("two rows in the mailbox view", || {
        let rows = b.find_all("[data-testid=\"mailbox-row\"]")?;
        Ok((rows.len() == 2).then_some(rows))
    })?;
    assert!(b.text(&rows[1])?.contains("912"));
    Ok(())
}
