//! The header's settings (the relay's delay and recording) survive a
//! reload: the page keeps them in the browser's localStorage.

use anyhow::Result;
use wirelab_e2e::Lab;

#[test]
fn delay_and_record_are_kept_across_a_reload() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/sockets")?;
    {
        let b = &lab.browser;
        b.select_option("delay-select", "100")?;
        b.click(&b.testid("record-toggle")?)?;
        let toggle = b.testid("record-toggle")?;
        b.wait_until("record ticked", || {
            Ok(b.property(&toggle, "checked")?.filter(|v| v == "true"))
        })?;
    }
    // A reload, and another page of the lab: the same settings.
    lab.open_online("/http")?;
    let b = &lab.browser;
    let delay = b.testid("delay-select")?;
    b.wait_until("the delay of 100 ms back", || {
        Ok(b.property(&delay, "value")?.filter(|v| v == "100"))
    })?;
    let record = b.property(&b.testid("record-toggle")?, "checked")?;
    assert_eq!(record.as_deref(), Some("true"), "record kept");
    // And the kept settings are what the next connection asks the relay
    // for: it records, so the page offers the recording.
    b.select_option("template-select", "someschool")?;
    b.wait_text("preview", "someschool")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HTTP/1.1 200 OK")?;
    b.testid("recording-links")?;
    Ok(())
}
