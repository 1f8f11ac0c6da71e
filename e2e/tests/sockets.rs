//! The Sockets workbench in headless Chromium: the foundation's end-to-end
//! path from a click in the page, through the relay, to the uppercase
//! servers over TCP and UDP, and back into the transcript.

use anyhow::Result;
use wirelab_e2e::{Browser, Lab, OfflineSite};

/// Connects the Sockets workbench to `target` and sends `hello world`.
fn round_trip(lab: &mut Lab, target: &str) -> Result<()> {
    lab.open_online("/sockets")?;
    let b = &lab.browser;
    b.select_option("target-select", target)?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    let editor = b.testid("editor")?;
    b.type_text(&editor, "hello world")?;
    b.click(&b.testid("send")?)?;
    let transcript = b.wait_text("transcript", "HELLO WORLD")?;
    assert!(transcript.contains("hello world"), "{transcript}");
    // The reply is an entry of its own, marked as received.
    let received = b.find_all("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?;
    assert_eq!(received.len(), 1);
    let reply = b.text(&received[0])?;
    assert!(reply.contains("HELLO WORLD"), "{reply}");
    Ok(())
}

#[test]
fn tcp_uppercase_round_trip_in_the_browser() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    round_trip(&mut lab, "upper-tcp")?;
    let b = &lab.browser;
    // TCP lines go out with CR LF, shown as pictures.
    let entries = b.find_all("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?;
    assert!(b.text(&entries[0])?.contains("HELLO WORLD␍␊"));
    // The dissection pane shows the selected message, line by line.
    b.click(&entries[0])?;
    let dissection = b.wait_text("dissection", "End of line")?;
    assert!(dissection.contains("CR LF"), "{dissection}");
    let diagnostics = b.testid("diagnostics")?;
    assert_eq!(
        b.attribute(&diagnostics, "data-count")?.as_deref(),
        Some("0")
    );
    // Disconnect, and the state says who closed.
    b.click(&b.testid("disconnect")?)?;
    b.wait_attribute("conn-state", "data-state", "closed")?;
    b.wait_text("conn-state", "you disconnected")?;
    Ok(())
}

#[test]
fn udp_uppercase_round_trip_in_the_browser() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    round_trip(&mut lab, "upper-udp")?;
    let b = &lab.browser;
    b.wait_text("conn-state", "UDP")?;
    // UDP sends the bare sentence as one datagram: no line ending.
    let sent = b.find_all("[data-testid=\"transcript-entry\"][data-direction=\"sent\"]")?;
    assert!(b.text(&sent[0])?.contains("11 B"), "{}", b.text(&sent[0])?);
    Ok(())
}

#[test]
fn udp_datagrams_are_not_flagged_for_a_missing_end_of_line() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    round_trip(&mut lab, "upper-udp")?;
    let b = &lab.browser;
    for (direction, summary) in [("sent", "hello world"), ("received", "HELLO WORLD")] {
        let css = format!("[data-testid=\"transcript-entry\"][data-direction=\"{direction}\"]");
        let entry = b.find(&css)?.expect("the datagram");
        assert!(
            b.find(&format!("{css} .badge"))?.is_none(),
            "{}",
            b.text(&entry)?
        );
        b.click(&entry)?;
        b.wait_text("dissection-summary", summary)?;
        let dissection = b.wait_text("dissection", "Datagram payload")?;
        assert!(!dissection.contains("end of line"), "{dissection}");
        let diagnostics = b.testid("diagnostics")?;
        assert_eq!(
            b.attribute(&diagnostics, "data-count")?.as_deref(),
            Some("0"),
            "{}",
            b.text(&diagnostics)?
        );
    }
    Ok(())
}

#[test]
fn the_closed_reason_is_shown_and_a_bare_lf_is_diagnosed() -> Result<()> {
    let Some(mut lab) = Lab::start(|c| c.limits.idle_timeout_secs = 2.0) else {
        return Ok(());
    };
    lab.open_online("/sockets")?;
    let b = &lab.browser;
    b.select_option("target-select", "upper-tcp")?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    // Typing dissects the draft before it is sent: LF alone is a warning.
    b.select_option("line-ending", "lf")?;
    b.type_text(&b.testid("editor")?, "bare")?;
    b.wait_attribute("diagnostics", "data-count", "1")?;
    b.wait_text("diagnostics", "bare LF")?;
    // Nothing more is sent: the relay closes the idle session and says why.
    b.wait_attribute("conn-state", "data-state", "closed")?;
    b.wait_text("conn-state", "closed by the relay: idle")?;
    Ok(())
}

#[test]
fn navigation_reaches_every_protocol_page() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open("/")?;
    let b = &lab.browser;
    // The start page maps the slides' RFC numbers to today's.
    let smtp = b.wait_until("RFC 821 in the table", || {
        b.find("[data-testid=\"rfc-row\"][data-old=\"821\"]")
    })?;
    assert!(b.text(&smtp)?.contains("RFC 5321"));
    // Most of these pages live in another WASM module than the one before,
    // so the click reloads the page: each probe finds the link afresh.
    for key in ["http", "smtp", "pop3", "imap", "ftp", "dns", "sockets"] {
        let anchor = b
            .find(&format!("[data-testid=\"nav-{key}\"] a"))?
            .expect("a link");
        b.click(&anchor)?;
        b.wait_until(&format!("nav-{key} to be active"), || {
            let Some(link) = b.find(&format!("[data-testid=\"nav-{key}\"]"))? else {
                return Ok(None);
            };
            Ok(b.attribute(&link, "class")?
                .filter(|c| c.contains("active")))
        })?;
        b.wait_until(&format!("the {key} page's heading"), || {
            let path = b.execute("return location.pathname", &[])?;
            Ok(b.find("main h1")?
                .filter(|_| path.as_str() == Some(&format!("/{key}"))))
        })?;
    }
    // Back to the start page with the browser's back button, across
    // modules as well.
    b.execute("history.back()", &[])?;
    b.wait_until("the DNS page after going back", || {
        let path = b.execute("return location.pathname", &[])?;
        Ok(b.find("[data-testid=\"nav-dns\"].active")?
            .filter(|_| path.as_str() == Some("/dns")))
    })?;
    Ok(())
}

/// The start page downloads its own module only; a page of another module
/// brings that one, and nothing else.
#[test]
fn each_page_downloads_only_its_own_module() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    let modules_loaded = |b: &Browser| -> Result<Vec<String>> {
        let names = b.execute(
            "return performance.getEntriesByType('resource').map(e => e.name)\
               .filter(n => n.includes('_bg.wasm'))\
               .map(n => new URL(n).pathname)",
            &[],
        )?;
        Ok(serde_json::from_value(names)?)
    };
    lab.open("/")?;
    let b = &lab.browser;
    b.testid("nav-dns")?;
    assert_eq!(modules_loaded(b)?, ["/pkg/home_bg.wasm"]);
    b.click(&b.find("[data-testid=\"nav-dns\"] a")?.expect("a link"))?;
    b.wait_until("the DNS page's own module", || {
        let loaded = modules_loaded(b)?;
        Ok((loaded == ["/pkg/dns_bg.wasm"]).then_some(()))
    })?;
    b.testid("nav-dns")?;
    Ok(())
}

/// If the module loaded for an address still does not have its page (an
/// out-of-date `index.html`, say), the page says so after one reload
/// instead of reloading forever.
#[test]
fn a_page_missing_from_its_module_is_reloaded_once_then_explained() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open("/")?;
    let b = &lab.browser;
    b.testid("nav-ftp")?;
    // As if this tab had just reloaded for /ftp and landed here again.
    b.execute(
        "sessionStorage.setItem('wirelab-reloaded-for', '/ftp')",
        &[],
    )?;
    b.execute(
        "history.pushState({}, '', '/ftp'); dispatchEvent(new PopStateEvent('popstate'))",
        &[],
    )?;
    b.testid("other-bundle-stuck")?;
    // A real click on another module's page still gets there.
    b.click(&b.find("[data-testid=\"nav-dns\"] a")?.expect("a link"))?;
    b.wait_until("the DNS page", || {
        b.find("[data-testid=\"nav-dns\"].active")
    })?;
    Ok(())
}

#[test]
fn without_a_relay_the_page_runs_its_own_servers() -> Result<()> {
    let Some(offline) = OfflineSite::open("/sockets")? else {
        return Ok(());
    };
    let b = &offline.browser;
    b.select_option("target-select", "upper-tcp")?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.type_text(&b.testid("editor")?, "offline hello")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "OFFLINE HELLO␍␊")?;
    Ok(())
}

#[test]
fn a_classroom_relay_asks_the_student_to_join_first() -> Result<()> {
    let Some(mut lab) = Lab::start(|c| c.classroom.enabled = true) else {
        return Ok(());
    };
    lab.open("/sockets")?;
    let b = &lab.browser;
    b.wait_attribute("relay-status", "data-state", "locked")?;
    let notice = b.wait_text("locked", "join link")?;
    assert!(!notice.is_empty());
    Ok(())
}

#[test]
fn the_page_opens_on_the_tcp_uppercase_server() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/sockets")?;
    let b = &lab.browser;
    let picker = b.testid("target-select")?;
    b.wait_until("the picker on upper-tcp", || {
        Ok(b.property(&picker, "value")?.filter(|v| v == "upper-tcp"))
    })?;
    // Connect goes where the picker says: a line comes back in upper case.
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.type_text(&b.testid("editor")?, "first program")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "FIRST PROGRAM")?;
    Ok(())
}

#[test]
fn the_socket_chapters_closed_ports_are_explained() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/sockets")?;
    closed_ports_are_explained(&lab.browser)
}

#[test]
fn without_a_relay_the_closed_ports_behave_the_same() -> Result<()> {
    let Some(offline) = OfflineSite::open("/sockets")? else {
        return Ok(());
    };
    closed_ports_are_explained(&offline.browser)
}

/// closed-tcp refuses and says why; closed-udp takes a datagram, answers
/// nothing and says why; upper-udp answers and shows no such note.
fn closed_ports_are_explained(b: &Browser) -> Result<()> {
    b.select_option("target-select", "closed-tcp")?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "failed")?;
    b.wait_attribute("socket-outcome", "data-outcome", "tcp-refused")?;
    b.wait_text("socket-outcome", "RST")?;
    b.select_option("target-select", "closed-udp")?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    assert!(b.find("[data-testid=\"socket-outcome\"]")?.is_none());
    b.type_text(&b.testid("editor")?, "anyone there")?;
    b.click(&b.testid("send")?)?;
    b.wait_attribute("socket-outcome", "data-outcome", "udp-unanswered")?;
    b.wait_text("socket-outcome", "port unreachable")?;
    let received = b.find_all("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?;
    assert!(received.is_empty());
    b.click(&b.testid("disconnect")?)?;
    b.select_option("target-select", "upper-udp")?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.type_text(&b.testid("editor")?, "anyone there")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "ANYONE THERE")?;
    // Longer than the page waits before calling a datagram unanswered.
    std::thread::sleep(std::time::Duration::from_millis(2_000));
    assert!(b.find("[data-testid=\"socket-outcome\"]")?.is_none());
    Ok(())
}
