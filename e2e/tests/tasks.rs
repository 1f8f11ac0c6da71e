//! The page's task panel in headless Chromium: the tasks of the page with
//! their hints, ticked live when the relay saw the work done (no reload),
//! and, without a relay, a word that the check needs one.

use anyhow::Result;
use wirelab_e2e::{Lab, OfflineSite};

/// The status the panel shows for `task`.
fn status(lab: &Lab, task: &str) -> Result<Option<String>> {
    let b = &lab.browser;
    let Some(row) = b.find(&format!("[data-testid=\"task\"][data-task=\"{task}\"]"))? else {
        return Ok(None);
    };
    b.attribute(&row, "data-status")
}

#[test]
fn an_uppercase_line_ticks_the_sockets_task_live() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/sockets")?;
    let b = &lab.browser;
    b.wait_until("the sockets tasks listed", || {
        Ok(status(&lab, "sockets-upper")?.filter(|s| s == "todo"))
    })?;
    let panel = b.testid("task-panel")?;
    assert_eq!(
        b.attribute(&panel, "data-page")?.as_deref(),
        Some("sockets")
    );
    // Every task has its hint, one click away.
    let hints = b.find_all("[data-testid=\"task\"] [data-testid=\"task-hint\"]")?;
    assert_eq!(hints.len(), b.find_all("[data-testid=\"task\"]")?.len());
    assert!(!hints.is_empty());

    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.type_text(&b.testid("editor")?, "hello tasks")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HELLO TASKS")?;
    b.wait_until("sockets-upper ticked", || {
        Ok(status(&lab, "sockets-upper")?.filter(|s| s == "passed"))
    })?;
    // The other task of the page is not done by it.
    assert_eq!(
        status(&lab, "sockets-source-port")?.as_deref(),
        Some("todo")
    );
    Ok(())
}

#[test]
fn without_a_relay_the_panel_says_the_check_needs_one() -> Result<()> {
    let Some(offline) = OfflineSite::open("/http")? else {
        return Ok(());
    };
    let b = &offline.browser;
    let notice = b.wait_text("tasks-need-relay", "relay")?;
    assert!(notice.contains("checked by a relay"), "{notice}");
    assert!(b.find("[data-testid=\"task\"]")?.is_none());
    Ok(())
}
