//! The HTTP workbench in headless Chromium against the reference web
//! server: templates, sending, the dissection linked to the bytes, the
//! conditional GET, and a diagnostic shown before anything is sent.

use anyhow::{Result, bail};
use wirelab_e2e::{Browser, Lab, OfflineSite};

fn select_template(b: &Browser, id: &str) -> Result<()> {
    b.select_option("template-select", id)?;
    b.wait_until(&format!("template {id} in the editor"), || {
        let editor = b.testid("editor")?;
        let note = b.testid("template-note")?;
        Ok(b.property(&editor, "value")?
            .filter(|v| !v.is_empty())
            .and(b.text(&note).ok()))
    })?;
    Ok(())
}

fn received_entries(b: &Browser) -> Result<Vec<String>> {
    b.find_all("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?
        .iter()
        .map(|e| b.text(e))
        .collect()
}

#[test]
fn someschool_request_gets_200_and_content_length_bytes_highlight() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    select_template(b, "someschool")?;
    // The preview shows every CR LF before anything is sent.
    let preview = b.wait_text("preview", "Host: www.someschool.edu␍␊")?;
    assert!(
        preview.contains("GET /somedir/page.html HTTP/1.1␍␊"),
        "{preview}"
    );
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HTTP/1.1 200 OK")?;
    // Connection: close: the server closes after answering.
    b.wait_text("conn-state", "closed by the server")?;
    let response = b
        .find("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?
        .expect("a response");
    b.click(&response)?;
    b.wait_attribute("inspector", "data-source", "received")?;
    let label = b.wait_until("the Content-Length field", || {
        b.find("[data-testid=\"field\"][data-name=\"Header: Content-Length\"] > .label")
    })?;
    let span_text = b.text(
        &b.find("[data-testid=\"field\"][data-name=\"Header: Content-Length\"] > .label > .span")?
            .unwrap(),
    )?;
    b.click(&label)?;
    let span = span_text.trim_matches(|c| c == '[' || c == ']').to_string();
    b.wait_attribute("bytes", "data-highlight", &span)?;
    let (start, end) = span.split_once("..").unwrap();
    let expected = end.parse::<usize>()? - start.parse::<usize>()?;
    let highlighted = b.find_all("[data-testid=\"bytes\"] .b.hl")?;
    assert_eq!(
        highlighted.len(),
        expected,
        "every byte of the header line is highlighted"
    );
    let help = b.wait_text("field-help", "Content-Length")?;
    assert!(help.contains("RFC 9110"), "{help}");
    // The other way: clicking a byte selects the field that holds it.
    let first_byte = b
        .find("[data-testid=\"bytes\"] .b[data-offset=\"0\"]")?
        .unwrap();
    b.click(&first_byte)?;
    b.wait_until("the Version field selected", || {
        b.find("[data-testid=\"field\"][data-name=\"Version\"][data-selected=\"true\"]")
    })?;
    Ok(())
}

#[test]
fn conditional_get_gets_304_on_a_persistent_connection() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    // HTTP/1.1 with If-None-Match keeps the connection; start with the kiwi.
    select_template(b, "kiwi")?;
    b.click(&b.testid("send")?)?;
    b.wait_until("the kiwi's 200", || {
        Ok(received_entries(b)?
            .iter()
            .any(|t| t.contains("200 OK"))
            .then_some(()))
    })?;
    select_template(b, "kiwi-conditional")?;
    b.click(&b.testid("send")?)?;
    b.wait_until("a 304", || {
        Ok(received_entries(b)?
            .iter()
            .any(|t| t.contains("304 Not Modified"))
            .then_some(()))
    })?;
    let entries = received_entries(b)?;
    let not_modified = entries.iter().find(|t| t.contains("304")).unwrap();
    if !not_modified.contains("B") {
        bail!("no size shown: {not_modified}");
    }
    // Each exchange is drawn on the timeline.
    let arrows = b.find_all("[data-testid=\"timeline-arrow\"][data-kind=\"response\"]")?;
    assert_eq!(arrows.len(), 2);
    Ok(())
}

/// One arrow of the timeline: (kind, from, to, time, text).
type DrawnArrow = (String, usize, usize, f64, String);

/// The timeline's arrows in the order drawn.
fn arrows(b: &Browser) -> Result<Vec<DrawnArrow>> {
    let number = |value: Option<String>| value.unwrap_or_default().parse::<f64>();
    b.find_all("[data-testid=\"timeline-arrow\"]")?
        .iter()
        .map(|a| {
            Ok((
                b.attribute(a, "data-kind")?.unwrap_or_default(),
                number(b.attribute(a, "data-from")?)? as usize,
                number(b.attribute(a, "data-to")?)? as usize,
                number(b.attribute(a, "data-t-ms")?)?,
                b.text(a)?,
            ))
        })
        .collect()
}

#[test]
fn two_http_1_0_connections_are_two_lanes_in_the_order_they_happened() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    // The kiwi over HTTP/1.0: the server closes after its 200.
    select_template(b, "kiwi")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "200 OK")?;
    b.wait_text("conn-state", "closed by the server")?;
    // The conditional GET goes on a second connection.
    select_template(b, "kiwi-conditional")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "304 Not Modified")?;
    b.wait_text("conn-state", "closed by the server")?;
    let lanes: Vec<String> = b
        .find_all("[data-testid=\"timeline-lane\"]")?
        .iter()
        .map(|l| b.text(l))
        .collect::<Result<_>>()?;
    assert_eq!(
        lanes.len(),
        3,
        "the client and one lane per connection: {lanes:?}"
    );
    for server in &lanes[1..] {
        assert!(server.starts_with("http (127.0.0.1:"), "{lanes:?}");
    }
    let drawn = arrows(b)?;
    let times: Vec<f64> = drawn.iter().map(|a| a.3).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "arrows in time order: {drawn:?}"
    );
    // Each connection in its own lane, one after the other: set-up,
    // request, response and FIN of the first, then those of the second.
    let lane_of = |a: &DrawnArrow| a.1.max(a.2);
    let lanes_in_order: Vec<usize> = drawn.iter().map(lane_of).collect();
    let first_of_second = lanes_in_order.iter().position(|l| *l == 2).unwrap();
    assert!(
        lanes_in_order[..first_of_second].iter().all(|l| *l == 1)
            && lanes_in_order[first_of_second..].iter().all(|l| *l == 2),
        "{drawn:?}"
    );
    let responses: Vec<_> = drawn.iter().filter(|a| a.0 == "response").collect();
    assert_eq!(responses.len(), 2, "{drawn:?}");
    assert!(
        responses[0].4.contains("200 OK") && responses[0].1 == 1,
        "{drawn:?}"
    );
    assert!(
        responses[1].4.contains("304 Not Modified") && responses[1].1 == 2,
        "{drawn:?}"
    );
    // Times do not start again at the second connection.
    assert!(responses[1].3 > responses[0].3, "{drawn:?}");
    Ok(())
}

#[test]
fn the_missing_colon_is_diagnosed_before_sending_and_refused_after() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    select_template(b, "bad-header")?;
    let diagnostics = b.wait_text("diagnostics", "has no colon")?;
    assert!(
        diagnostics.contains("did you mean `Connection: close`?"),
        "{diagnostics}"
    );
    // Clicking the diagnostic highlights the broken line's bytes.
    let diagnostic = b
        .find("[data-testid=\"diagnostic\"][data-severity=\"error\"]")?
        .unwrap();
    let span = b.attribute(&diagnostic, "data-span")?.unwrap();
    b.click(&diagnostic)?;
    b.wait_attribute("bytes", "data-highlight", &span)?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "400 Bad Request")?;
    Ok(())
}

#[test]
fn the_web_server_runs_in_the_page_without_a_relay() -> Result<()> {
    let Some(offline) = OfflineSite::open("/http")? else {
        return Ok(());
    };
    let b = &offline.browser;
    select_template(b, "cookie")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HTTP/1.1 200 OK")?;
    let received = received_entries(b)?;
    assert!(
        received.iter().any(|t| t.contains("Set-Cookie: visits=1")),
        "{received:?}"
    );
    Ok(())
}

#[test]
fn added_delay_shows_in_the_handshake_and_recordings_download() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    b.select_option("delay-select", "100")?;
    b.click(&b.testid("record-toggle")?)?;
    select_template(b, "telnet-get")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HTTP/1.1 200 OK")?;
    // The handshake is one round trip: 2 × 100 ms at least.
    let state = b.text(&b.testid("conn-state")?)?;
    let ms: f64 = state
        .split("set up in ")
        .nth(1)
        .and_then(|rest| rest.split(" ms").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no handshake time in {state:?}"));
    assert!(ms >= 200.0, "the handshake took {ms} ms: {state}");
    let link = b.testid("recording-pcapng")?;
    let href = b.attribute(&link, "href")?.expect("a link");
    let path = href.trim_start_matches(&lab.base);
    b.click(&b.testid("disconnect")?)?;
    let pcap = b.wait_until("the recording to be readable", || {
        let (status, body) = lab.get(path)?;
        Ok((status == 200 && body.len() > 100).then_some(body))
    })?;
    // A pcapng file starts with a Section Header Block.
    assert_eq!(&pcap[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
    Ok(())
}
