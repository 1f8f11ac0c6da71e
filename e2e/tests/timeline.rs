//! The timeline in headless Chromium, on the SMTP page against the relay's
//! server: a session with pauses of a few seconds between commands (the
//! student thinking) is drawn with a break per pause, each saying how long
//! it was, and fits its box; its labels are whole; it is saved as SVG and
//! PNG files; and once the session outgrows the box, the lanes' names stay
//! in view while it scrolls.

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use wirelab_e2e::{Browser, Lab};

const RECEIVED: &str = "[data-testid=\"transcript-entry\"][data-direction=\"received\"]";
const BREAK: &str = "[data-testid=\"timeline-break\"]";
/// Longer than the timeline's idle threshold (1 s), short enough to keep
/// the test short.
const THINK: Duration = Duration::from_millis(2_500);

/// Types `line`, sends it, and waits for one more reply containing `expect`.
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

/// The timeline's scrolling box: its height, the most it may be, and the
/// height of what it holds.
fn box_heights(b: &Browser) -> Result<(f64, f64, f64)> {
    let v = b.execute(
        "const box = document.querySelector('[data-testid=\"timeline-scroll\"]');
         return [box.clientHeight, parseFloat(getComputedStyle(box).maxHeight), box.scrollHeight];",
        &[],
    )?;
    let at = |i: usize| v[i].as_f64().context("a height");
    Ok((at(0)?, at(1)?, at(2)?))
}

/// The label of a timeline arrow.
fn label_of(b: &Browser, arrow: &wirelab_e2e::Element) -> Result<String> {
    let v = b.execute(
        "return arguments[0].querySelector('.label').textContent;",
        &[arrow.arg()],
    )?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// Waits for a finished download whose name ends with `extension`.
fn downloaded(b: &Browser, extension: &str) -> Result<PathBuf> {
    let dir = b.downloads();
    b.wait_until(&format!("a .{extension} file in {}", dir.display()), || {
        // Chromium may create the file before it has written it: only a
        // file with its bytes in counts as downloaded.
        Ok(std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| {
                p.extension().is_some_and(|e| e == extension)
                    && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
            }))
    })
}

#[test]
fn pauses_are_breaks_the_session_fits_is_saved_and_keeps_its_lane_names_in_view() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/smtp")?;
    let b = &lab.browser;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.wait_text("transcript", "220 hamburger.edu")?;
    let commands = [
        ("EHLO crepes.fr", "250"),
        ("MAIL FROM:<alice@crepes.fr>", "Sender ok"),
        ("RCPT TO:<bob@hamburger.edu>", "Recipient ok"),
    ];
    for (line, reply) in commands {
        std::thread::sleep(THINK);
        exchange(b, line, reply)?;
    }

    // One break per pause, each with its duration.
    let breaks = b.wait_until("three breaks", || {
        let found = b.find_all(BREAK)?;
        Ok((found.len() == 3).then_some(found))
    })?;
    let mut said = Vec::new();
    for mark in &breaks {
        let idle: f64 = b
            .attribute(mark, "data-idle-ms")?
            .context("data-idle-ms")?
            .parse()?;
        ensure!(idle >= 2_500.0, "a pause of {idle} ms");
        let text = b.text(mark)?;
        said.push(text.clone());
        let seconds: f64 = text
            .strip_prefix("idle ")
            .and_then(|t| t.strip_suffix(" s"))
            .with_context(|| format!("the break says {text:?}"))?
            .parse()?;
        // Tenths of a second under ten seconds, whole seconds above.
        let rounding = if idle < 10_000.0 { 0.051 } else { 0.51 };
        ensure!(
            (seconds - idle / 1000.0).abs() <= rounding,
            "{text:?} for {idle} ms"
        );
    }
    // Drawn to scale, each pause would take 300 px or more: it fits now.
    let (_, max, content) = box_heights(b)?;
    ensure!(
        content <= max,
        "the diagram is {content} px in a {max} px box"
    );

    // Labels are whole, and an arrow's whole description is in the caption
    // when it has the focus.
    let labels: Vec<String> = b
        .find_all("[data-testid=\"timeline-arrow\"] .label")?
        .iter()
        .map(|l| b.text(l))
        .collect::<Result<_>>()?;
    ensure!(
        labels.iter().any(|l| l == "MAIL FROM:<alice@crepes.fr>"),
        "{labels:?}"
    );
    ensure!(!labels.iter().any(|l| l.contains('…')), "{labels:?}");
    let arrows = b.find_all("[data-testid=\"timeline-arrow\"]")?;
    b.execute("arguments[0].focus();", &[arrows[0].arg()])?;
    b.wait_text("timeline-caption", "client (this page) → smtp")?;
    // Enter on an arrow opens its message, as a click does.
    let mail_from = arrows
        .iter()
        .position(|a| label_of(b, a).is_ok_and(|l| l == "MAIL FROM:<alice@crepes.fr>"))
        .context("the MAIL FROM arrow")?;
    b.type_text(&arrows[mail_from], "\u{E007}")?;
    b.wait_text("dissection-summary", "MAIL FROM")?;

    // Saved as SVG: a well-formed standalone file with its styles inline.
    b.click(&b.testid("timeline-export-svg")?)?;
    let svg = std::fs::read_to_string(downloaded(b, "svg")?)?;
    ensure!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    ensure!(svg.contains("MAIL FROM:&lt;alice@crepes.fr&gt;"), "{svg}");
    ensure!(svg.contains("style=\"fill:"), "no inline style: {svg}");
    for text in &said {
        ensure!(svg.contains(text.as_str()), "{text:?} is not in the file");
    }
    let errors = b.execute(
        "return new DOMParser().parseFromString(arguments[0], 'image/svg+xml')
             .getElementsByTagName('parsererror').length;",
        &[Value::from(svg.as_str())],
    )?;
    ensure!(errors == 0, "the SVG file does not parse: {svg}");
    // And as PNG.
    b.click(&b.testid("timeline-export-png")?)?;
    let png = std::fs::read(downloaded(b, "png")?)?;
    ensure!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1_000);

    // Quick commands grow the diagram past its box; scrolled to the end,
    // the lanes' names are still at the top of the box, and on top.
    for _ in 0..12 {
        exchange(b, "NOOP", "250")?;
    }
    let (height, _, content) = box_heights(b)?;
    ensure!(
        content > height,
        "{content} px should scroll in {height} px"
    );
    let seen = b.execute(
        "const box = document.querySelector('[data-testid=\"timeline-scroll\"]');
         box.scrollIntoView();
         box.scrollTop = box.scrollHeight;
         const top = box.getBoundingClientRect().top;
         return [...document.querySelectorAll('[data-testid=\"timeline-lane\"] .lane-label')].map(l => {
             const r = l.getBoundingClientRect();
             const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
             return [box.scrollTop, r.top - top, l.contains(hit) || hit === l];
         });",
        &[],
    )?;
    let lanes = seen.as_array().context("the lanes")?;
    ensure!(lanes.len() == 2, "{seen}");
    for lane in lanes {
        ensure!(lane[0].as_f64() > Some(0.0), "the box scrolled: {seen}");
        let offset = lane[1].as_f64().context("offset")?;
        ensure!(
            (0.0..20.0).contains(&offset),
            "lane name {offset} px below the top: {seen}"
        );
        ensure!(lane[2] == Value::Bool(true), "lane name covered: {seen}");
    }
    Ok(())
}
