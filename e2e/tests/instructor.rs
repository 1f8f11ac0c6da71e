//! The instructor's page in a real browser: a wrong secret is told, the
//! right one signs in (a cookie; the secret is in no URL), a class is made
//! and shows its join link, code and QR code, a student joining appears
//! on the roster without a reload (the class's event feed), and closing
//! the class marks it closed.

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
