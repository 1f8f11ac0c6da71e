//! The caching calculators in a real browser: sliders moved as a student
//! moves them (the input event), and the course's figures read back from
//! the page: the worked example's 1.21 s at a hit rate of 0.4, the slides'
//! wrong utilisations corrected where they appear, P13's 8 s and about 2 s,
//! and P14's hosts moving when a fourth cache is added.

use anyhow::Result;
use serde_json::json;
use wirelab_e2e::{Browser, Lab};

/// Sets a range input to `value` and fires the `input` event a drag fires.
const SLIDE: &str = r#"
    const [slider, value] = arguments;
    slider.value = value;
    slider.dispatchEvent(new Event("input", { bubbles: true }));
"#;

fn slide(b: &Browser, testid: &str, value: u32) -> Result<()> {
    let slider = b.testid(testid)?;
    b.execute(SLIDE, &[slider.arg(), json!(value.to_string())])?;
    Ok(())
}

fn text_of(b: &Browser, testid: &str) -> Result<String> {
    b.text(&b.testid(testid)?)
}

#[test]
fn the_hit_rate_slider_brings_the_worked_example_to_the_courses_figure() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/caching")?;
    let b = &lab.browser;
    // The textbook's network with no cache: the access link is at 1.
    b.wait_text("access-intensity", "1 (100 %)")?;
    assert!(text_of(b, "total-delay")?.contains("grows without bound"));
    assert!(
        b.find("[data-testid=\"delay-marker\"]")?.is_none(),
        "no point to mark"
    );

    slide(b, "hit-rate", 40)?;
    b.wait_text("access-intensity", "0.6 (60 %)")?;
    // 0.4 × 0.010 s + 0.6 × 2.01 s, and P13's model on the same numbers.
    let estimate = text_of(b, "textbook-estimate")?;
    assert!(estimate.starts_with("1.21 s"), "{estimate}");
    assert_eq!(text_of(b, "access-delay")?, "0.17 s");
    assert_eq!(text_of(b, "total-delay")?, "1.30 s");
    b.wait_attribute("delay-marker", "data-hit", "0.40")?;
    let marker = b.testid("delay-marker")?;
    assert_eq!(
        b.attribute(&marker, "data-delay")?.as_deref(),
        Some("1.304")
    );

    slide(b, "hit-rate", 70)?;
    b.wait_text("total-delay", "0.64 s")?;
    Ok(())
}

#[test]
fn the_slides_numbers_are_corrected_where_they_appear() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/caching")?;
    let b = &lab.browser;
    b.testid("access-calc")?;
    assert!(
        b.find("[data-testid=\"erratum-lan\"]")?.is_none(),
        "not on the textbook's LAN"
    );
    b.click(&b.testid("slides-network")?)?;
    // 1.5 Mbps on a 1 Gbps LAN; 1.50/1.54.
    b.wait_text("lan-intensity", "0.0015 (0.15 %)")?;
    assert!(text_of(b, "erratum-lan")?.contains("LAN utilization: 15%"));
    assert_eq!(text_of(b, "access-intensity")?, "0.974 (97 %)");
    assert!(text_of(b, "erratum-access")?.contains("97 %, not 99 %"));
    // The fatter link: stop 13 of the slider is 154 Mbps.
    slide(b, "link-rate", 13)?;
    b.wait_text("access-intensity", "0.0097 (0.97 %)")?;
    assert!(text_of(b, "erratum-fat")?.contains("0.97 %, not 9.9 %"));
    assert!(b.find("[data-testid=\"erratum-access\"]")?.is_none());
    // The slides' cache: 0.9/1.54 = 0.58, about 1.2 s.
    slide(b, "link-rate", 3)?;
    slide(b, "hit-rate", 40)?;
    b.wait_text("access-intensity", "(58 %)")?;
    assert!(text_of(b, "textbook-estimate")?.starts_with("1.21 s"));
    assert!(
        b.find("[data-testid=\"erratum-access\"]")?.is_none(),
        "99 % is the no-cache slide's"
    );
    Ok(())
}

#[test]
fn p13_and_p14_show_the_courses_answers() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/caching")?;
    let b = &lab.browser;
    b.wait_text("p13-access-a", "6.00 s")?;
    assert_eq!(text_of(b, "p13-total-a")?, "8.00 s");
    assert_eq!(text_of(b, "p13-total-b")?, "1.98 s");
    slide(b, "p13-hit-rate", 0)?;
    b.wait_text("p13-total-b", "8.00 s")?;

    let upenn = b
        .find("[data-testid=\"hash-row\"][data-host=\"upenn.edu\"]")?
        .expect("upenn.edu in the table");
    assert_eq!(b.attribute(&upenn, "data-moved")?.as_deref(), Some("true"));
    assert!(text_of(b, "upenn-story")?.contains("cache-1"));
    let moved = |id: &str| -> Result<u32> {
        let found = b
            .attribute(&b.testid(id)?, "data-moved")?
            .unwrap_or_default();
        Ok(found.parse()?)
    };
    let (modulo, ring) = (moved("moved-modulo")?, moved("moved-ring")?);
    assert!(
        (700..800).contains(&modulo),
        "modulo moved {modulo} of 1000"
    );
    assert!((180..320).contains(&ring), "the ring moved {ring} of 1000");
    Ok(())
}
