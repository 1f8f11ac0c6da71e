//! The IMAP page in headless Chromium: bob logs in to the relay's IMAP
//! server, selects INBOX, fetches a header, sets `\Seen` on message 1 and
//! logs out; a new connection finds the flag on message 1 and not on
//! message 2, because IMAP keeps flags on the server. Without a relay, the
//! page's own IMAP server answers the same login.
//!
//! The page's views follow the session: the folder tree grows folders and
//! flag badges as commands report them, the POP3 comparison lists the same
//! messages, a fetched BODYSTRUCTURE shows its numbered parts whose buttons
//! fill the editor; and while one tab IDLEs, the SMTP page in a second tab
//! of the same browser sends bob a mail and the first tab sees EXISTS.

use anyhow::Result;
use wirelab_e2e::{Browser, Lab, OfflineSite};

const RECEIVED: &str = "[data-testid=\"transcript-entry\"][data-direction=\"received\"]";

/// Types `line`, sends it, and waits for the transcript to show `expect`
/// after one more reply.
fn exchange(b: &Browser, line: &str, expect: &str) -> Result<()> {
    let before = b.find_all(RECEIVED)?.len();
    b.type_text(&b.testid("editor")?, line)?;
    b.click(&b.testid("send")?)?;
    b.wait_until(&format!("a reply to {line:?}"), || {
        Ok((b.find_all(RECEIVED)?.len() > before).then_some(()))
    })?;
    b.wait_text("transcript", expect)?;
    Ok(())
}

/// The number of elements matching `css` once it is `want`.
fn wait_count(b: &Browser, css: &str, want: usize) -> Result<()> {
    b.wait_until(&format!("{want} of {css}"), || {
        Ok((b.find_all(css)?.len() == want).then_some(()))
    })
}

/// Waits until the element matching `css` has `attr` equal to `want`.
fn wait_css_attribute(b: &Browser, css: &str, attr: &str, want: &str) -> Result<()> {
    b.wait_until(&format!("{css} with {attr}={want:?}"), || {
        let Some(e) = b.find(css)? else {
            return Ok(None);
        };
        Ok((b.attribute(&e, attr)?.as_deref() == Some(want)).then_some(()))
    })
}

fn connect(b: &Browser) -> Result<()> {
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.wait_text("transcript", "* OK [CAPABILITY IMAP4rev2")?;
    Ok(())
}

#[test]
fn a_flag_set_in_one_session_is_there_in_the_next() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/imap")?;
    let b = &lab.browser;
    connect(b)?;
    b.wait_attribute("protocol-state", "data-state", "Not Authenticated")?;
    b.wait_attribute("imap-next-tag", "data-tag", "a001")?;
    exchange(b, "a001 LOGIN bob hungry", "a001 OK")?;
    b.wait_attribute("protocol-state", "data-state", "Authenticated")?;
    b.wait_attribute("imap-next-tag", "data-tag", "a002")?;
    exchange(b, "a002 SELECT INBOX", "a002 OK")?;
    b.wait_attribute("protocol-state", "data-state", "Selected")?;
    exchange(b, "a003 FETCH 1 BODY.PEEK[HEADER]", "a003 OK")?;
    exchange(b, "a004 STORE 1 +FLAGS (\\Seen)", "a004 OK")?;
    exchange(b, "a005 LOGOUT", "a005 OK")?;
    b.wait_attribute("protocol-state", "data-state", "Logout")?;
    b.wait_attribute("conn-state", "data-state", "closed")?;

    // A new connection, with the first one's transcript cleared so that
    // what is read below can only come from the second.
    b.click(&b.testid("clear")?)?;
    connect(b)?;
    b.wait_attribute("imap-next-tag", "data-tag", "a001")?;
    exchange(b, "a001 LOGIN bob hungry", "a001 OK")?;
    exchange(b, "a002 SELECT INBOX", "a002 OK")?;
    exchange(b, "a003 FETCH 1:2 FLAGS", "a003 OK")?;
    let transcript = b.text(&b.testid("transcript")?)?;
    assert!(
        transcript.contains("* 1 FETCH (FLAGS (\\Seen))"),
        "{transcript}"
    );
    assert!(transcript.contains("* 2 FETCH (FLAGS ())"), "{transcript}");
    assert!(!transcript.contains("a004 STORE"), "{transcript}");
    Ok(())
}

#[test]
fn without_a_relay_bob_logs_in_to_the_in_browser_server() -> Result<()> {
    let Some(offline) = OfflineSite::open("/imap")? else {
        return Ok(());
    };
    let b = &offline.browser;
    connect(b)?;
    exchange(b, "a001 LOGIN bob hungry", "a001 OK")?;
    b.wait_attribute("protocol-state", "data-state", "Authenticated")?;
    exchange(b, "a002 LIST \"\" *", "a002 OK")?;
    b.wait_text("transcript", "INBOX")?;
    // The page's views follow the in-browser server's answers too.
    wait_count(b, "[data-testid=\"imap-folder\"][data-folder=\"INBOX\"]", 1)?;
    exchange(b, "a003 SELECT INBOX", "a003 OK")?;
    wait_count(b, MESSAGE, 2)?;
    Ok(())
}

const MESSAGE: &str = "[data-testid=\"imap-message\"]";

#[test]
fn the_folder_tree_the_pop3_comparison_and_the_numbered_parts_follow_the_session() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/imap")?;
    let b = &lab.browser;
    b.wait_text("imap-folders", "No folders yet")?;
    connect(b)?;
    exchange(b, "a001 LOGIN bob hungry", "a001 OK")?;
    exchange(b, "a002 CREATE Work", "a002 OK")?;
    exchange(b, "a003 CREATE Work/2026", "a003 OK")?;
    exchange(b, "a004 LIST \"\" *", "a004 OK")?;
    for folder in ["INBOX", "Work", "Work/2026"] {
        let css = format!("[data-testid=\"imap-folder\"][data-folder=\"{folder}\"]");
        wait_count(b, &css, 1)?;
    }
    exchange(b, "a005 SELECT INBOX", "a005 OK")?;
    wait_count(b, MESSAGE, 2)?;
    let first = format!("{MESSAGE}[data-number=\"1\"]");
    // The flags are not known before the client asks for them.
    b.wait_text("imap-folders", "flags not fetched")?;
    exchange(b, "a006 FETCH 1:* (UID FLAGS ENVELOPE)", "a006 OK")?;
    wait_css_attribute(b, &first, "data-uid", "1")?;
    wait_css_attribute(b, &first, "data-flags", "")?;
    exchange(b, "a007 STORE 1 +FLAGS (\\Flagged \\Seen)", "a007 OK")?;
    wait_css_attribute(b, &first, "data-flags", "\\Flagged \\Seen")?;
    let badges = b.find_all(&format!("{first} [data-testid=\"imap-flag\"]"))?;
    assert_eq!(badges.len(), 2);

    // POP3 beside IMAP: the same two messages, deleted by default, and the
    // folders out of its reach.
    wait_count(
        b,
        "[data-testid=\"compare-row\"][data-pop3-keeps=\"false\"]",
        2,
    )?;
    b.wait_text("pop3-summary", "never sees Work, Work/2026")?;
    b.wait_text("imap-summary", "2 message(s) stay in INBOX")?;
    b.select_option("imap-pop3-habit", "leave")?;
    wait_count(
        b,
        "[data-testid=\"compare-row\"][data-pop3-keeps=\"true\"]",
        2,
    )?;

    // The course's second message is a multipart/mixed with an attachment.
    exchange(b, "a008 FETCH 2 BODYSTRUCTURE", "a008 OK")?;
    wait_count(b, "[data-testid=\"imap-part\"][data-section=\"2\"]", 1)?;
    let button = b
        .find("[data-testid=\"imap-part\"][data-section=\"1\"] [data-testid=\"imap-fetch-section\"][data-section=\"1\"]")?
        .expect("a button for part 1");
    b.click(&button)?;
    let editor = b.testid("editor")?;
    let want = "a009 UID FETCH 2 BODY.PEEK[1]";
    b.wait_until("the section's command in the editor", || {
        Ok((b.property(&editor, "value")?.as_deref() == Some(want)).then_some(()))
    })?;
    let before = b.find_all(RECEIVED)?.len();
    b.click(&b.testid("send")?)?;
    b.wait_until("the part fetched", || {
        Ok((b.find_all(RECEIVED)?.len() > before).then_some(()))
    })?;
    b.wait_text("transcript", "a009 OK")?;
    b.wait_text("transcript", "BODY[1] {")?;
    Ok(())
}

/// Replays the next line of the chosen dialogue and sends it.
fn next_step(b: &Browser, line: &str) -> Result<()> {
    let editor = b.testid("editor")?;
    b.click(&b.testid("dialogue-next")?)?;
    b.wait_until(&format!("{line:?} in the editor"), || {
        Ok((b.property(&editor, "value")?.as_deref() == Some(line)).then_some(()))
    })?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", line)?;
    Ok(())
}

/// Types and sends `line` once the editor is empty (the last line sent
/// has left it), then waits for it in the transcript; no reply awaited.
fn send_line(b: &Browser, line: &str) -> Result<()> {
    let editor = b.testid("editor")?;
    b.wait_until("an empty editor", || {
        Ok((b.property(&editor, "value")?.as_deref() == Some("")).then_some(()))
    })?;
    b.type_text(&editor, line)?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", line)?;
    Ok(())
}

#[test]
fn a_mail_sent_from_the_smtp_page_in_another_tab_shows_during_idle() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/imap")?;
    let imap_tab = lab.browser.current_tab()?;
    {
        let b = &lab.browser;
        connect(b)?;
        b.select_option("dialogue-select", "idle")?;
        next_step(b, "a001 LOGIN bob hungry")?;
        b.wait_text("transcript", "a001 OK")?;
        next_step(b, "a002 SELECT INBOX")?;
        b.wait_text("transcript", "a002 OK")?;
        wait_count(b, MESSAGE, 2)?;
        next_step(b, "a003 IDLE")?;
        b.wait_text("transcript", "+ idling")?;
    }

    lab.browser.open_tab()?;
    lab.open_online("/smtp")?;
    {
        let b = &lab.browser;
        b.click(&b.testid("connect")?)?;
        b.wait_text("transcript", "220 hamburger.edu")?;
        for line in [
            "HELO crepes.fr",
            "MAIL FROM:<alice@crepes.fr>",
            "RCPT TO:<bob@hamburger.edu>",
            "DATA",
        ] {
            send_line(b, line)?;
        }
        b.wait_text("transcript", "354")?;
        for line in ["Subject: while you idle", "."] {
            send_line(b, line)?;
        }
        b.wait_text("transcript", "250 Message accepted for delivery")?;
    }

    lab.browser.switch_to_tab(&imap_tab)?;
    let b = &lab.browser;
    // The IDLE tells the first tab, without a command from it.
    let transcript = b.wait_text("transcript", "* 3 EXISTS")?;
    assert!(!transcript.contains("a004"), "{transcript}");
    wait_count(b, MESSAGE, 3)?;
    next_step(b, "DONE")?;
    b.wait_text("transcript", "a003 OK")?;
    next_step(b, "a004 FETCH * (UID FLAGS ENVELOPE)")?;
    b.wait_text("transcript", "a004 OK")?;
    b.wait_text("imap-folders", "while you idle")?;
    Ok(())
}
