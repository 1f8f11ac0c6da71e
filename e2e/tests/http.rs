//! The HTTP workbench in headless Chromium against the reference web
//! server: templates, sending, the dissection linked to the bytes, the
//! conditional GET, a diagnostic shown before anything is sent, and a new
//! template or line ending taking the previous response off the screen.

use anyhow::{Context, Result, bail};
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
    // The help says which of the course's RFC numbers that one replaced.
    b.wait_text("field-help-rfc", "RFC 9110 replaces RFC 2068 and 2616")?;
    // The other way: clicking a byte selects the field that holds it.
    let first_byte = b
        .find("[data-testid=\"bytes\"] .b[data-offset=\"0\"]")?
        .unwrap();
    b.click(&first_byte)?;
    b.wait_until("the Version field selected", || {
        b.find("[data-testid=\"field\"][data-name=\"Version\"][data-selected=\"true\"]")
    })?;
    // A header line starts folded; its toggle unfolds it, and folds it again.
    let header = "[data-testid=\"field\"][data-name=\"Header: Content-Length\"]";
    let header_parts = format!("{header} [data-testid=\"field\"]");
    assert!(b.find(&header_parts)?.is_none(), "the header starts folded");
    let toggle = format!("{header} > .label > [data-testid=\"toggle\"]");
    b.click(&b.find(&toggle)?.context("the header's toggle")?)?;
    b.wait_until("the header's parts shown", || b.find(&header_parts))?;
    b.click(&b.find(&toggle)?.context("the header's toggle")?)?;
    b.wait_until("the header folded again", || {
        Ok(b.find(&header_parts)?.is_none().then_some(()))
    })?;
    Ok(())
}

/// Select-all in a field, so that typing replaces its text (WebDriver's
/// Control key, then the NULL key releasing it).
const SELECT_ALL: &str = "\u{E009}a\u{E000}";
const SENT_PARTIAL: &str = "[data-testid=\"message-partial\"][data-direction=\"sent\"]";
const SENT_WHOLE: &str = "[data-testid=\"transcript-entry\"][data-direction=\"sent\"]";

/// Replaces the editor's text with `text` and sends it.
fn send_text(b: &Browser, text: &str) -> Result<()> {
    b.type_text(&b.testid("editor")?, &format!("{SELECT_ALL}{text}"))?;
    let editor = b.testid("editor")?;
    b.wait_until("the editor to hold the new text", || {
        Ok((b.property(&editor, "value")?.as_deref() == Some(text)).then_some(()))
    })?;
    b.click(&b.testid("send")?)
}

#[test]
fn a_head_without_its_blank_line_shows_at_once_and_completes_in_place() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    send_text(
        b,
        "GET /somedir/page.html HTTP/1.1\nHost: www.someschool.edu\n",
    )?;
    // The head is not complete, yet its bytes are in the transcript at once.
    let partial = b.wait_until("the head as a partial message", || b.find(SENT_PARTIAL))?;
    let text = b.text(&partial)?;
    assert!(
        text.contains("GET /somedir/page.html HTTP/1.1␍␊Host: www.someschool.edu␍␊"),
        "{text}"
    );
    assert!(b.find_all(SENT_WHOLE)?.is_empty(), "no whole request yet");
    // The blank line completes it: one message takes the partial's place.
    send_text(b, "\n")?;
    b.wait_text("transcript", "HTTP/1.1 200 OK")?;
    assert!(b.find_all(SENT_PARTIAL)?.is_empty());
    let sent = b.find_all(SENT_WHOLE)?;
    assert_eq!(sent.len(), 1, "one request, not two");
    let request = b.text(&sent[0])?;
    assert!(
        request.contains("Host: www.someschool.edu␍␊␍␊"),
        "{request}"
    );
    // Sent in two writes: the time of its last byte shows beside its first.
    let last = b.find("[data-testid=\"transcript-entry\"][data-direction=\"sent\"] [data-testid=\"last-byte-time\"]")?;
    assert!(last.is_some(), "{request}");
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
fn a_new_template_or_line_ending_takes_the_previous_response_off_the_screen() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/http")?;
    let b = &lab.browser;
    select_template(b, "someschool")?;
    let someschool_note = b.text(&b.testid("template-note")?)?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HTTP/1.1 200 OK")?;
    let show_response = || -> Result<()> {
        let response = b
            .find("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?
            .expect("a response");
        b.click(&response)?;
        b.wait_attribute("inspector", "data-source", "received")?;
        b.testid("raw")?;
        Ok(())
    };
    let on_the_draft = |what: &str| -> Result<()> {
        b.wait_attribute("inspector", "data-source", "draft")?;
        if b.find("[data-testid=\"raw\"]")?.is_some() {
            bail!("{what}: the previous response's bytes are still shown");
        }
        if b.find("[data-testid=\"show-draft\"]")?.is_some() {
            bail!("{what}: the inspector still offers to go back to the draft");
        }
        Ok(())
    };
    show_response()?;
    select_template(b, "kiwi")?;
    on_the_draft("a new template")?;
    let note = b.text(&b.testid("template-note")?)?;
    if note == someschool_note {
        bail!("the previous template's note stayed: {note}");
    }
    let summary = b.wait_text("dissection-summary", "kiwi")?;
    if !summary.contains("GET") {
        bail!("the inspector shows {summary}, not the kiwi's request");
    }
    show_response()?;
    b.select_option("line-ending", "lf")?;
    on_the_draft("a new line ending")?;
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
    // The textbook's own server runs in the page too, answering as its code does.
    b.click(&b.testid("disconnect")?)?;
    b.wait_attribute("conn-state", "data-state", "closed")?;
    b.select_option("target-select", "webserver-book")?;
    select_template(b, "someschool")?;
    b.click(&b.testid("send")?)?;
    b.wait_text("transcript", "HTTP/1.0 200 Document Follows")?;
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
    let text_link = b.testid("recording-text")?;
    let text_href = b.attribute(&text_link, "href")?.expect("a link");
    let text_path = text_href.trim_start_matches(&lab.base);
    // Both links answer while the connection is open: what is there so far.
    let (status, open_pcap) = lab.get(path)?;
    assert_eq!(status, 200);
    // A pcapng file starts with a Section Header Block.
    assert_eq!(&open_pcap[..4], &[0x0a, 0x0d, 0x0d, 0x0a]);
    let (status, text) = lab.get(text_path)?;
    let text = String::from_utf8_lossy(&text);
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("HTTP/1.1 200 OK"), "{text}");
    assert!(text.contains("still open"), "{text}");
    b.click(&b.testid("disconnect")?)?;
    let pcap = b
        .wait_until("the recording to end", || {
            let (_, text) = lab.get(text_path)?;
            Ok((!String::from_utf8_lossy(&text).contains("still open")).then_some(()))
        })
        .and_then(|()| lab.get(path))?
        .1;
    // The closing segments come after what was there.
    assert!(pcap.len() > open_pcap.len());
    assert!(pcap.starts_with(&open_pcap));
    Ok(())
}
