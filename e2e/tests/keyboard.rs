//! The pages driven from the keyboard: after Connect and after a helper
//! button ("Next line", "Active mode (PORT)") the focus is in the editor,
//! so the Enter the page asks for sends the line instead of pressing the
//! button again; the HTTP editor sends with Ctrl+Enter; `?` outside a text
//! field lists the shortcuts and Escape closes the list. Every key goes to
//! whatever has the focus, as a student's keyboard would.

use anyhow::{Context, Result};
use wirelab_e2e::{Browser, Lab, key};

const RECEIVED: &str = "[data-testid=\"transcript-entry\"][data-direction=\"received\"]";

/// Waits until the element with test id `id` has the focus.
fn wait_focus(b: &Browser, id: &str) -> Result<()> {
    let mut seen = None;
    b.wait_until(&format!("the focus on {id}"), || {
        seen = b.focused_testid()?;
        Ok((seen.as_deref() == Some(id)).then_some(()))
    })
    .with_context(|| format!("the focus is on {seen:?}"))
}

/// Types `line` wherever the focus is, waits until the editor shows it
/// (the page redraws the editor after each key), then presses Enter.
fn type_and_enter(b: &Browser, line: &str, expect: &str) -> Result<()> {
    b.send_keys(line)?;
    wait_editor(b, line)?;
    keys_answered(b, key::ENTER, expect)
}

/// Types `keys` wherever the focus is and waits for a new reply from the
/// server that contains `expect`.
fn keys_answered(b: &Browser, keys: &str, expect: &str) -> Result<()> {
    let before = b.find_all(RECEIVED)?.len();
    b.send_keys(keys)?;
    b.wait_until(&format!("a reply to {keys:?}"), || {
        Ok((b.find_all(RECEIVED)?.len() > before).then_some(()))
    })?;
    b.wait_text("transcript", expect)?;
    Ok(())
}

/// Waits until the editor holds `line`.
fn wait_editor(b: &Browser, line: &str) -> Result<()> {
    let editor = b.testid("editor")?;
    b.wait_until(&format!("{line:?} in the editor"), || {
        Ok(b.property(&editor, "value")?.filter(|v| v == line))
    })?;
    Ok(())
}

/// Chooses the replay `dialogue`, presses "Next line" and checks that the
/// focus came back to the editor holding `line`; then Enter sends it and the
/// server answers with `reply`.
fn next_line_by_enter(b: &Browser, dialogue: &str, line: &str, reply: &str) -> Result<()> {
    b.select_option("dialogue-select", dialogue)?;
    b.click(&b.testid("dialogue-next")?)?;
    wait_focus(b, "editor")?;
    wait_editor(b, line)?;
    keys_answered(b, key::ENTER, reply)
}

fn connect_by_button(lab: &mut Lab, page: &str) -> Result<()> {
    lab.open_online(page)?;
    let b = &lab.browser;
    b.click(&b.testid("connect")?)?;
    wait_focus(b, "editor")?;
    b.wait_attribute("conn-state", "data-state", "open")
}

#[test]
fn smtp_connect_and_next_line_leave_the_focus_in_the_editor() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    connect_by_button(&mut lab, "/smtp")?;
    let b = &lab.browser;
    b.wait_text("transcript", "220 ")?;
    next_line_by_enter(b, "course", "HELO crepes.fr", "250 Hello crepes.fr")?;
    // One Enter, one line: the replay moved on by one step, not two.
    b.wait_text("dialogue-progress", "line 2 of")?;
    Ok(())
}

#[test]
fn pop3_connect_leaves_the_focus_in_the_editor() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    connect_by_button(&mut lab, "/pop3")?;
    let b = &lab.browser;
    b.wait_text("transcript", "+OK POP3 server ready")?;
    type_and_enter(b, "user bob", "+OK")?;
    type_and_enter(b, "pass hungry", "+OK user successfully logged on")?;
    Ok(())
}

#[test]
fn ftp_helper_buttons_hand_the_focus_back_to_the_editor() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    connect_by_button(&mut lab, "/ftp")?;
    let b = &lab.browser;
    b.wait_text("transcript", "220 ")?;
    next_line_by_enter(b, "anonymous", "USER anonymous", "331 ")?;
    type_and_enter(b, "PASS guest@example.org", "230 ")?;
    // Active mode: the PORT line lands in the editor and Enter sends it,
    // rather than opening a second listener.
    b.click(&b.testid("listen")?)?;
    wait_focus(b, "editor")?;
    let line = b.text(&b.testid("port-line")?)?;
    wait_editor(b, &line)?;
    keys_answered(b, key::ENTER, "200 ")?;
    assert_eq!(
        b.find_all("[data-testid=\"port-line\"]")?.len(),
        1,
        "one listener, one PORT line"
    );
    Ok(())
}

#[test]
fn http_editor_sends_with_ctrl_enter() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    b.select_option("template-select", "someschool")?;
    let editor = b.testid("editor")?;
    b.wait_until("the template in the editor", || {
        Ok(b.property(&editor, "value")?
            .filter(|v| v.contains("someschool")))
    })?;
    let before = b.property(&editor, "value")?;
    b.click(&editor)?;
    wait_focus(b, "editor")?;
    keys_answered(
        b,
        &format!("{}{}", key::CONTROL, key::ENTER),
        "HTTP/1.1 200 OK",
    )?;
    // Ctrl+Enter sent the request and typed nothing into it.
    assert_eq!(b.property(&editor, "value")?, before);
    Ok(())
}

#[test]
fn a_line_typed_and_entered_in_one_burst_goes_out_whole() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    connect_by_button(&mut lab, "/sockets")?;
    let b = &lab.browser;
    // No wait between the keys and Enter: the send must read what the
    // editor holds, not the draft of the page's last redraw.
    keys_answered(b, &format!("burst of keys{}", key::ENTER), "BURST OF KEYS")?;
    Ok(())
}

/// Whether the shortcuts dialog is open (the `open` of its `<dialog>`).
fn shortcuts_open(b: &Browser) -> Result<bool> {
    let dialog = b.testid("shortcuts")?;
    Ok(b.property(&dialog, "open")?.as_deref() == Some("true"))
}

#[test]
fn question_mark_lists_the_shortcuts_and_escape_gives_the_focus_back() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/smtp")?;
    let b = &lab.browser;
    // Tab from the page's start to its first control, the home link.
    b.send_keys(key::TAB)?;
    let home = b.active_element()?;
    assert_eq!(b.text(&home)?, "wirelab", "the first Tab stop");
    b.send_keys("?")?;
    wait_focus(b, "shortcuts-close")?;
    assert!(shortcuts_open(b)?, "? opened the dialog");
    let listed = b.wait_text("shortcuts", "Ctrl+Enter")?;
    for shortcut in ["Enter", "Tab", "timeline", "Escape"] {
        assert!(listed.contains(shortcut), "{shortcut} listed in: {listed}");
    }
    b.send_keys(key::ESCAPE)?;
    b.wait_until("the dialog to close", || {
        Ok((!shortcuts_open(b)?).then_some(()))
    })?;
    let back = b.active_element()?;
    assert_eq!(b.text(&back)?, "wirelab", "the focus is back where it was");
    Ok(())
}

#[test]
fn question_mark_in_an_editor_is_text_not_a_shortcut() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    connect_by_button(&mut lab, "/smtp")?;
    let b = &lab.browser;
    b.send_keys("HELP?")?;
    wait_editor(b, "HELP?")?;
    assert!(
        !shortcuts_open(b)?,
        "? typed in the editor opened the dialog"
    );
    assert_eq!(b.focused_testid()?.as_deref(), Some("editor"));
    Ok(())
}

#[test]
fn enter_on_a_transcript_row_opens_its_message() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    connect_by_button(&mut lab, "/pop3")?;
    let b = &lab.browser;
    b.wait_text("transcript", "+OK POP3 server ready")?;
    type_and_enter(b, "user bob", "+OK")?;
    // The greeting's row, reached as Tab would reach it.
    let greeting = b.find(RECEIVED)?.context("the greeting's row")?;
    assert_eq!(b.attribute(&greeting, "tabindex")?.as_deref(), Some("0"));
    assert_eq!(
        b.attribute(&greeting, "aria-current")?,
        None,
        "not open yet"
    );
    b.execute("arguments[0].focus();", &[greeting.arg()])?;
    b.send_keys(key::ENTER)?;
    b.wait_text("dissection-summary", "POP3 server ready")?;
    assert_eq!(
        b.attribute(&greeting, "aria-current")?.as_deref(),
        Some("true")
    );
    Ok(())
}

#[test]
fn question_mark_on_a_checkbox_is_a_shortcut() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/dns")?;
    let b = &lab.browser;
    let rd = b.testid("flag-rd")?;
    b.execute("arguments[0].focus();", &[rd.arg()])?;
    wait_focus(b, "flag-rd")?;
    b.send_keys("?")?;
    wait_focus(b, "shortcuts-close")?;
    b.send_keys(key::ESCAPE)?;
    wait_focus(b, "flag-rd")?;
    Ok(())
}
