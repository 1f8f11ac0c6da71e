//! The control pictures look the same on every system: the page ships the
//! glyphs (static/fonts), so ␍ and ␊ are told apart by their pixels even
//! where no installed font has them (the case on this test machine, where
//! both used to fall back to the same empty box).

use anyhow::Result;
use serde_json::{Value, json};
use wirelab_e2e::Lab;

/// Puts `glyph` on the page in the page's own monospace font, large, at a
/// whole-pixel place of its own, and returns its element's test id.
const PLACE_GLYPH: &str = r#"
    const [glyph, id, top] = arguments;
    const s = document.createElement("span");
    s.textContent = glyph;
    s.dataset.testid = id;
    s.style.cssText = "position:fixed;left:8px;top:" + top + "px;font-family:var(--mono);"
        + "font-size:32px;line-height:40px;width:48px;height:40px;display:block;"
        + "background:#fff;color:#000;z-index:9999";
    document.body.appendChild(s);
    return id;
"#;

#[test]
fn carriage_return_and_line_feed_render_differently() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    // The preview shows the request's line ends as control pictures.
    b.wait_text("preview", "␍␊")?;
    let mut shots = Vec::new();
    for (glyph, id, top) in [("␍", "cr", 100), ("␊", "lf", 160), ("␍", "cr-again", 220)] {
        b.execute(PLACE_GLYPH, &[json!(glyph), json!(id), json!(top)])?;
        // The glyph fonts load on first use; wait until the page has them.
        b.wait_until("the glyph font loaded", || {
            let ready = b.execute(
                "return document.fonts.status === 'loaded' \
                 && document.fonts.check('32px \"wirelab glyphs\"', arguments[0]);",
                &[json!(glyph)],
            )?;
            Ok((ready == Value::Bool(true)).then_some(()))
        })?;
        shots.push(b.screenshot(&b.testid(id)?)?);
    }
    // Compared as booleans: the PNGs are too long for a useful message.
    assert!(
        shots[0] == shots[2],
        "the same glyph renders the same pixels"
    );
    assert!(shots[0] != shots[1], "␍ and ␊ render as the same pixels");
    let shipped = b.execute(
        "return [...document.fonts].some(f => f.family.includes('wirelab glyphs') \
         && f.status === 'loaded');",
        &[],
    )?;
    assert_eq!(
        shipped,
        Value::Bool(true),
        "the page's own glyphs were used"
    );
    Ok(())
}
