//! The IMAP page in headless Chromium: bob logs in to the relay's IMAP
//! server, selects INBOX, fetches a header, sets `\Seen` on message 1 and
//! logs out; a new connection finds the flag on message 1 and not on
//! message 2, because IMAP keeps flags on the server. Without a relay, the
//! page's own IMAP server answers the same login.

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
    Ok(())
}
