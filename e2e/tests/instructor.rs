//! The instructor's page in a real browser: a wrong secret is told, the
//! right one signs in (a cookie; the secret is in no URL), a class is made
//! and shows its join link, code and QR code, a student joining appears
//! on the roster without a reload (the class's event feed), and closing
//! the class marks it closed; the class grid ticks a student's task live,
//! and its CSV says the same; a student's panel lists their sessions live
//! with the transcript one click away; reset and revoke are confirmed in
//! the page (revoking ends the student's open session; a reset refused
//! while the student's POP3 session holds a maildrop says why); the settings form
//! saves what it shows and tells the relay's reason for a refusal.

use anyhow::{Context, Result, anyhow};
use wirelab_e2e::{Browser, Element, Lab, key};

const SECRET: &str = "e2e-instructor-secret";

/// The element with test id `id`, once the page has drawn it.
fn wait_for(b: &Browser, id: &str) -> Result<Element> {
    b.wait_until(id, || b.find(&format!("[data-testid=\"{id}\"]")))
}

#[test]
fn the_instructor_makes_a_class_and_sees_a_student_join_live() -> Result<()> {
    let Some(mut lab) = Lab::start(|c| {
        c.classroom.enabled = true;
        c.classroom.instructor_secret = Some(SECRET.into());
    }) else {
        return Ok(());
    };
    lab.open("/instructor")?;
    let b = &lab.browser;
    b.type_text(&wait_for(b, "instructor-secret")?, "a guess")?;
    b.click(&b.testid("instructor-sign-in")?)?;
    let refused = b.text(&wait_for(b, "instructor-error")?)?;
    assert!(refused.contains("not the instructor secret"), "{refused}");

    b.type_text(&b.testid("instructor-secret")?, SECRET)?;
    b.click(&b.testid("instructor-sign-in")?)?;
    b.type_text(&wait_for(b, "class-name")?, "Networks 101")?;
    b.click(&b.testid("class-create")?)?;
    let link = b.text(&wait_for(b, "join-link")?)?;
    assert!(link.contains("/join/"), "{link}");
    assert!(
        b.find("[data-testid=\"join-qr\"] svg")?.is_some(),
        "a QR code"
    );
    let url: String = b
        .execute("return location.href", &[])?
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!url.contains(SECRET), "{url}");

    // A student joins from elsewhere: the roster shows them, live.
    let code = b.text(&b.testid("join-code")?)?;
    let room = lab.relay.state.classroom.clone();
    let now = wirelab_relay::classroom::unix_now();
    lab.block_on(room.join(&code, "Ada", None, now))
        .map_err(|r| anyhow!(r.message))?;
    b.wait_text("roster", "Ada")?;

    b.click(&b.testid("class-close")?)?;
    b.wait_until("the class marked closed", || {
        b.find("[data-testid^=\"class-c-\"][data-state=\"closed\"]")
    })?;
    Ok(())
}

/// The grid cell of `student` for `task`, if it has `status`.
fn cell(b: &Browser, student: &str, task: &str, status: &str) -> Result<Option<Element>> {
    b.find(&format!(
        "[data-testid=\"progress-cell\"][data-student=\"{student}\"][data-task=\"{task}\"][data-status=\"{status}\"]"
    ))
}

/// A student's session through `/ws` with their token, from the page's
/// JavaScript: a line to the uppercase server, its answer awaited.
const UPPERCASE_AS_STUDENT: &str = r#"
const [token, done] = arguments;
const ws = new WebSocket(`ws://${location.host}/ws?target=upper-tcp&token=${token}`, "wirelab.v1");
ws.binaryType = "arraybuffer";
ws.onmessage = (m) => {
  if (typeof m.data === "string") {
    if (JSON.parse(m.data).type === "connected") ws.send(new TextEncoder().encode("hello grid\n"));
    else done("relay said " + m.data);
  } else { ws.close(); done(new TextDecoder().decode(m.data)); }
};
ws.onerror = () => done("websocket error");
"#;

#[test]
fn a_students_task_ticks_the_class_grid_live() -> Result<()> {
    let Some(mut lab) = Lab::start(|c| {
        c.classroom.enabled = true;
        c.classroom.instructor_secret = Some(SECRET.into());
    }) else {
        return Ok(());
    };
    lab.open("/instructor")?;
    let b = &lab.browser;
    b.type_text(&wait_for(b, "instructor-secret")?, SECRET)?;
    b.click(&b.testid("instructor-sign-in")?)?;
    b.type_text(&wait_for(b, "class-name")?, "Grid lab")?;
    b.click(&b.testid("class-create")?)?;
    let code = b.text(&wait_for(b, "join-code")?)?;
    wait_for(b, "progress-grid")?;

    // Two students join from elsewhere; the grid lists them, nothing done.
    let room = lab.relay.state.classroom.clone();
    let now = wirelab_relay::classroom::unix_now();
    let ada = lab
        .block_on(room.join(&code, "Ada", None, now))
        .map_err(|r| anyhow!(r.message))?;
    let bob = lab
        .block_on(room.join(&code, "Bob", None, now))
        .map_err(|r| anyhow!(r.message))?;
    let (ada_id, bob_id) = (ada.claims.sub.clone(), bob.claims.sub.clone());
    b.wait_until("both students on the grid", || {
        Ok(cell(b, &ada_id, "sockets-upper", "todo")?.and(cell(
            b,
            &bob_id,
            "sockets-upper",
            "todo",
        )?))
    })?;

    // Ada has a line upper-cased: her cell ticks, without a reload.
    let answer = b.execute_async(UPPERCASE_AS_STUDENT, &[ada.token.clone().into()])?;
    assert_eq!(answer.as_str(), Some("HELLO GRID\n"), "{answer}");
    b.wait_until("Ada's cell ticked", || {
        cell(b, &ada_id, "sockets-upper", "passed")
    })?;
    assert!(
        cell(b, &bob_id, "sockets-upper", "todo")?.is_some(),
        "Bob's cell stays as it was"
    );
    // Her attempts, in time order, hold it; Bob's are empty.
    let attempts = |id: &str| {
        b.find_all(&format!(
            "[data-testid=\"student-attempts\"][data-student=\"{id}\"] li"
        ))
    };
    let adas = attempts(&ada_id)?;
    assert!(!adas.is_empty(), "Ada's attempts listed");
    let last = b
        .property(adas.last().unwrap(), "textContent")?
        .unwrap_or_default();
    assert!(last.contains("sockets-upper"), "{last}");
    assert!(attempts(&bob_id)?.is_empty(), "Bob has none");
    let url: String = b
        .execute("return location.href", &[])?
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        url.ends_with("/instructor"),
        "no reload to another page: {url}"
    );

    // The CSV link gives the same grid.
    let link = b.testid("progress-csv")?;
    let href = b.attribute(&link, "href")?.unwrap_or_default();
    let csv = b.execute_async(
        "const [href, done] = arguments; fetch(href).then(r => r.text()).then(done, e => done(String(e)));",
        &[href.into()],
    )?;
    let csv = csv.as_str().unwrap_or_default();
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "sockets-upper")
        .ok_or_else(|| anyhow!("no sockets-upper column: {csv}"))?;
    let row_of = |id: &str| -> Vec<String> {
        csv.lines()
            .find(|l| l.starts_with(id))
            .map(|l| l.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        row_of(&ada_id).get(column).map(String::as_str),
        Some("passed"),
        "{csv}"
    );
    assert_eq!(
        row_of(&bob_id).get(column).map(String::as_str),
        Some("todo"),
        "{csv}"
    );
    Ok(())
}

/// Signs in on `/instructor` and makes class `name`; returns its join code.
fn signed_in_with_a_class(lab: &mut Lab, name: &str) -> Result<String> {
    lab.open("/instructor")?;
    let b = &lab.browser;
    b.type_text(&wait_for(b, "instructor-secret")?, SECRET)?;
    b.click(&b.testid("instructor-sign-in")?)?;
    b.type_text(&wait_for(b, "class-name")?, name)?;
    b.click(&b.testid("class-create")?)?;
    b.text(&wait_for(b, "join-code")?)
}

fn classroom_lab() -> Option<Lab> {
    Lab::start(|c| {
        c.classroom.enabled = true;
        c.classroom.instructor_secret = Some(SECRET.into());
    })
}

/// A student's session to the uppercase server that stays open, kept in
/// `window.held`; how it ended goes to `window.heldEnd` (the relay's
/// message, then the close code). Done once the relay says connected.
const HOLD_AS_STUDENT: &str = r#"
const [token, done] = arguments;
const ws = new WebSocket(`ws://${location.host}/ws?target=upper-tcp&token=${token}`, "wirelab.v1");
window.held = ws;
window.heldEnd = null;
ws.onmessage = (m) => {
  if (typeof m.data !== "string") return;
  const message = JSON.parse(m.data);
  if (message.type === "connected") done("connected");
  else window.heldEnd = (window.heldEnd || "") + m.data;
};
ws.onclose = (e) => { window.heldEnd = (window.heldEnd || "") + " close " + e.code; done("closed"); };
"#;

/// The student's panel opened from the roster's button, with the
/// keyboard (the button focused, then Enter).
fn open_panel(b: &Browser, student: &str) -> Result<Element> {
    let button = b.wait_until("the student's button on the roster", || {
        b.find(&format!(
            "[data-testid=\"student-open\"][data-student=\"{student}\"]"
        ))
    })?;
    b.execute("arguments[0].focus()", &[button.arg()])?;
    b.send_keys(key::ENTER)?;
    let panel = b.wait_until("the student's panel", || {
        b.find(&format!(
            "[data-testid=\"student-panel\"][data-student=\"{student}\"]"
        ))
    })?;
    let focused = b.execute("return document.activeElement.id", &[])?;
    assert_eq!(
        focused.as_str(),
        Some("student-panel-title"),
        "the focus follows into the panel"
    );
    Ok(panel)
}

/// Signs the instructor in, makes a class called `name`, and has Ada join
/// it (through the relay's classroom, as the join form does).
fn ada_in_a_class(lab: &mut Lab, name: &str) -> Result<wirelab_relay::classroom::Joined> {
    let code = signed_in_with_a_class(lab, name)?;
    let room = lab.relay.state.classroom.clone();
    let now = wirelab_relay::classroom::unix_now();
    lab.block_on(room.join(&code, "Ada", None, now))
        .map_err(|r| anyhow!(r.message))
}

/// The row of the student's panel for a session in `state` to `target`.
fn session_row(b: &Browser, state: &str, target: &str) -> Result<Option<Element>> {
    b.find(&format!(
        "[data-testid=\"student-session\"][data-state=\"{state}\"][data-target=\"{target}\"]"
    ))
}

#[test]
fn a_students_panel_lists_their_sessions_live_with_the_transcript() -> Result<()> {
    let Some(mut lab) = classroom_lab() else {
        return Ok(());
    };
    let ada = ada_in_a_class(&mut lab, "Sessions lab")?;
    let ada_id = ada.claims.sub.clone();
    let b = &lab.browser;
    open_panel(b, &ada_id)?;
    wait_for(b, "student-no-sessions")?;

    // A recorded session, made and ended: it shows without a reload.
    let recorded = UPPERCASE_AS_STUDENT.replace("upper-tcp&", "upper-tcp&record=1&");
    let answer = b.execute_async(&recorded, &[ada.token.clone().into()])?;
    assert_eq!(answer.as_str(), Some("HELLO GRID\n"), "{answer}");
    let row = b.wait_until("the finished session in the panel", || {
        session_row(b, "finished", "upper-tcp")
    })?;
    let text = b.text(&row)?;
    assert!(
        text.contains("11 B"),
        "the line's 11 bytes each way: {text}"
    );
    // One held open: listed first, as open, while it lasts.
    let held = b.execute_async(HOLD_AS_STUDENT, &[ada.token.clone().into()])?;
    assert_eq!(held.as_str(), Some("connected"), "{held}");
    b.wait_until("the open session in the panel", || {
        session_row(b, "open", "upper-tcp")
    })?;
    let states: Vec<String> = b
        .find_all("[data-testid=\"student-session\"]")?
        .iter()
        .map(|r| b.attribute(r, "data-state").map(Option::unwrap_or_default))
        .collect::<Result<_>>()?;
    assert_eq!(states, ["open", "finished"]);

    // Its transcript is one click away, and holds the line.
    let link = b.wait_until("the transcript link", || {
        b.find("[data-testid=\"student-session\"][data-state=\"finished\"] [data-testid=\"session-transcript\"]")
    })?;
    let pcapng = b.find("[data-testid=\"student-session\"][data-state=\"finished\"] [data-testid=\"session-pcapng\"]")?;
    assert!(pcapng.is_some(), "a pcapng link beside it");
    let href = b.attribute(&link, "href")?.unwrap_or_default();
    assert!(href.starts_with("/api/recordings/"), "{href}");
    lab.open(&href)?;
    let b = &lab.browser;
    let body = b.wait_until("the transcript", || {
        let text = b.execute("return document.body.innerText", &[])?;
        Ok(text
            .as_str()
            .filter(|t| t.contains("hello grid"))
            .map(str::to_string))
    })?;
    assert!(body.contains("HELLO GRID"), "{body}");
    Ok(())
}

#[test]
fn reset_and_revoke_are_confirmed_in_the_page_and_end_the_students_session() -> Result<()> {
    let Some(mut lab) = classroom_lab() else {
        return Ok(());
    };
    let ada = ada_in_a_class(&mut lab, "Reset lab")?;
    let ada_id = ada.claims.sub.clone();
    let b = &lab.browser;
    let held = b.execute_async(HOLD_AS_STUDENT, &[ada.token.clone().into()])?;
    assert_eq!(held.as_str(), Some("connected"), "{held}");
    open_panel(b, &ada_id)?;

    // Reset: asked first; "Cancel" sends nothing.
    b.click(&wait_for(b, "student-reset")?)?;
    let question = b.text(&wait_for(b, "student-confirm")?)?;
    assert!(question.contains("Are you sure"), "{question}");
    assert_eq!(
        b.focused_testid()?.as_deref(),
        Some("student-confirm-yes"),
        "the question has the focus"
    );
    b.click(&b.testid("student-confirm-no")?)?;
    wait_for(b, "student-reset")?;
    assert!(
        b.find("[data-testid=\"student-outcome\"]")?.is_none(),
        "nothing was sent"
    );
    b.click(&b.testid("student-reset")?)?;
    b.click(&wait_for(b, "student-confirm-yes")?)?;
    let outcome = b.wait_text("student-outcome", "Reset:")?;
    b.wait_attribute("student-outcome", "data-ok", "true")
        .with_context(|| outcome.clone())?;
    assert!(outcome.contains("mailbox"), "{outcome}");

    // Revoke: confirmed, the student's open session ends, the roster says so.
    b.click(&b.testid("student-revoke")?)?;
    let question = b.text(&wait_for(b, "student-confirm")?)?;
    assert!(question.contains("token stops working"), "{question}");
    b.click(&b.testid("student-confirm-yes")?)?;
    let outcome = b.wait_text("student-outcome", "Revoked")?;
    assert!(outcome.contains("1 open session ended"), "{outcome}");
    b.wait_until("the roster to show the student revoked", || {
        b.find(&format!(
            "[data-testid=\"student-{ada_id}\"][data-state=\"revoked\"]"
        ))
    })?;
    let ended = b.wait_until("the student's session to end", || {
        let end = b.execute("return window.heldEnd", &[])?;
        Ok(end.as_str().map(str::to_string))
    })?;
    assert!(ended.contains("withdrawn"), "the relay says why: {ended}");
    let button = b.testid("student-revoke")?;
    assert_eq!(b.property(&button, "disabled")?.as_deref(), Some("true"));

    // Closed, the panel gives the focus back to the student's button.
    b.click(&b.testid("student-panel-close")?)?;
    b.wait_until("the panel gone", || {
        Ok(b.find("[data-testid=\"student-panel\"]")?
            .is_none()
            .then_some(()))
    })?;
    assert_eq!(b.focused_testid()?.as_deref(), Some("student-open"));
    Ok(())
}

/// `GET path` from the page (with its cookie), as JSON.
fn fetch_json(b: &Browser, path: &str) -> Result<serde_json::Value> {
    let text = b.execute_async(
        "const [path, done] = arguments; fetch(path).then(r => r.text()).then(done, e => done(String(e)));",
        &[path.into()],
    )?;
    Ok(serde_json::from_str(text.as_str().unwrap_or_default())?)
}

#[test]
fn the_class_settings_form_saves_what_it_shows_and_tells_a_refusal() -> Result<()> {
    let Some(mut lab) = classroom_lab() else {
        return Ok(());
    };
    signed_in_with_a_class(&mut lab, "Settings lab")?;
    let b = &lab.browser;
    let class = b
        .attribute(&wait_for(b, "progress-csv")?, "href")?
        .unwrap_or_default();
    let id = class
        .strip_prefix("/api/classes/")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| anyhow!("no class id in {class}"))?
        .to_string();
    let all = wait_for(b, "settings-all-targets")?;
    assert_eq!(
        b.property(&all, "checked")?.as_deref(),
        Some("true"),
        "all, at first"
    );

    b.click(&all)?;
    b.click(&wait_for(b, "settings-target-upper-tcp")?)?;
    b.click(&b.testid("settings-custom")?)?;
    b.type_text(&b.testid("settings-max-delay")?, "40")?;
    b.select_option("settings-recordings", "always")?;
    b.click(&b.testid("settings-save")?)?;
    b.wait_attribute("settings-outcome", "data-state", "saved")?;
    let saved = fetch_json(b, &format!("/api/classes/{id}/settings"))?;
    assert_eq!(
        saved["targets"],
        serde_json::json!(["upper-tcp"]),
        "{saved}"
    );
    assert_eq!(saved["custom_targets"], true, "{saved}");
    assert_eq!(saved["max_delay_ms"], 40, "{saved}");
    assert_eq!(saved["recordings"], "always", "{saved}");

    // More delay than the relay allows: refused, with the relay's reason.
    let delay = b.testid("settings-max-delay")?;
    b.execute("arguments[0].value = ''", &[delay.arg()])?;
    b.type_text(&delay, "99999999")?;
    b.click(&b.testid("settings-save")?)?;
    b.wait_attribute("settings-outcome", "data-state", "failed")?;
    let reason = b.text(&b.testid("settings-outcome")?)?;
    assert!(reason.contains("more than the relay allows"), "{reason}");
    let kept = fetch_json(b, &format!("/api/classes/{id}/settings"))?;
    assert_eq!(kept["max_delay_ms"], 40, "unchanged: {kept}");
    Ok(())
}

/// A student's POP3 session logged in as bob, kept open in `window.pop3`
/// (it holds bob's maildrop, as POP3 says it must). Done once PASS is
/// accepted, or with what the server or the relay said instead.
const POP3_AS_STUDENT: &str = r#"
const [token, done] = arguments;
const ws = new WebSocket(`ws://${location.host}/ws?target=pop3&token=${token}`, "wirelab.v1");
ws.binaryType = "arraybuffer";
window.pop3 = ws;
const commands = ["USER bob\r\n", "PASS hungry\r\n"];
let heard = "";
ws.onmessage = (m) => {
  if (typeof m.data === "string") {
    if (JSON.parse(m.data).type !== "connected") done("relay said " + m.data);
    return;
  }
  heard += new TextDecoder().decode(m.data);
  if (!heard.endsWith("\r\n")) return;
  if (!heard.startsWith("+OK")) return done(heard);
  heard = "";
  const next = commands.shift();
  if (next) ws.send(new TextEncoder().encode(next));
  else done("logged in");
};
ws.onerror = () => done("websocket error");
"#;

#[test]
fn a_refused_reset_shows_the_relays_reason() -> Result<()> {
    let Some(mut lab) = classroom_lab() else {
        return Ok(());
    };
    let ada = ada_in_a_class(&mut lab, "Mail lab")?;
    let b = &lab.browser;
    let logged = b.execute_async(POP3_AS_STUDENT, &[ada.token.clone().into()])?;
    assert_eq!(logged.as_str(), Some("logged in"), "{logged}");
    open_panel(b, &ada.claims.sub)?;

    b.click(&wait_for(b, "student-reset")?)?;
    b.click(&wait_for(b, "student-confirm-yes")?)?;
    b.wait_attribute("student-outcome", "data-ok", "false")?;
    let refused = b.text(&b.testid("student-outcome")?)?;
    assert!(
        refused.contains("POP3 session"),
        "the relay's reason: {refused}"
    );

    // Once the student's POP3 session quits, the same reset is done.
    b.execute("window.pop3.close()", &[])?;
    // The relay lets the maildrop go a moment after the WebSocket closes.
    b.wait_until("the reset done after the POP3 session", || {
        b.click(&b.testid("student-reset")?)?;
        b.click(&wait_for(b, "student-confirm-yes")?)?;
        // Asking again cleared the last outcome: this one is the new answer.
        let ok = b.attribute(&wait_for(b, "student-outcome")?, "data-ok")?;
        Ok((ok.as_deref() == Some("true")).then_some(()))
    })?;
    Ok(())
}
