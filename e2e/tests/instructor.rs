//! The instructor's page in a real browser: a wrong secret is told, the
//! right one signs in (a cookie; the secret is in no URL), a class is made
//! and shows its join link, code and QR code, a student joining appears
//! on the roster without a reload (the class's event feed), and closing
//! the class marks it closed; the class grid ticks a student's task live,
//! and its CSV says the same.

use anyhow::{Result, anyhow};
use wirelab_e2e::{Browser, Element, Lab};

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
