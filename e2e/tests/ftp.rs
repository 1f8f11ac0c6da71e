//! The FTP workbench in headless Chromium against the reference FTP server,
//! through the relay: the control connection typed line by line, the data
//! connections the page opens by itself (passive mode after 227, active
//! mode through the relay's `listen`), each in its own lane of the
//! transcript and of the timeline, and an upload from the file picker.

use anyhow::Result;
use wirelab_e2e::{Browser, Lab, OfflineSite};

/// Types a command in the editor and presses Enter (the editor sends the
/// line with CR LF), then waits for the reply starting with `code`.
fn command(b: &Browser, line: &str, code: &str) -> Result<()> {
    b.type_text(&b.testid("editor")?, line)?;
    enter(b, line, code)
}

/// Presses Enter in the editor and waits for a new reply with `code`.
fn enter(b: &Browser, what: &str, code: &str) -> Result<()> {
    let before = received_control(b)?.len();
    b.type_text(&b.testid("editor")?, "\u{E007}")?;
    b.wait_until(&format!("the reply {code} to {what}"), || {
        let replies = received_control(b)?;
        Ok(replies[before.min(replies.len())..]
            .iter()
            .any(|r| r.contains(&format!("{code} ")))
            .then_some(()))
    })
}

fn received_control(b: &Browser) -> Result<Vec<String>> {
    b.find_all(
        "[data-testid=\"transcript-entry\"][data-lane=\"control\"][data-direction=\"received\"]",
    )?
    .iter()
    .map(|e| b.text(e))
    .collect()
}

fn data_lane(b: &Browser) -> Result<String> {
    let rows = b.find_all("[data-testid=\"transcript-entry\"][data-lane=\"data\"]")?;
    let mut text = String::new();
    for row in rows {
        text.push_str(&b.text(&row)?);
        text.push('\n');
    }
    Ok(text)
}

/// Waits until the server has closed data connection `number`: its events
/// are all in.
fn wait_data_closed(b: &Browser, number: usize) -> Result<()> {
    let selector =
        format!("[data-testid=\"data-channel\"][data-number=\"{number}\"][data-state=\"closed\"]");
    b.wait_until(&format!("data connection #{number} closed"), || {
        b.find(&selector)
    })?;
    Ok(())
}

fn wait_data_lane(b: &Browser, needle: &str) -> Result<String> {
    b.wait_until(&format!("{needle:?} in the data lane"), || {
        let text = data_lane(b)?;
        Ok(text.contains(needle).then_some(text))
    })
}

/// The lanes the TCP set-ups of the timeline arrive at (or leave from, for
/// a connection the server opened).
fn connect_lanes(b: &Browser) -> Result<Vec<(String, String)>> {
    b.find_all("[data-testid=\"timeline-arrow\"][data-kind=\"connect\"]")?
        .iter()
        .map(|a| {
            Ok((
                b.attribute(a, "data-from")?.unwrap_or_default(),
                b.attribute(a, "data-to")?.unwrap_or_default(),
            ))
        })
        .collect()
}

/// The transcript's rows in order: (lane, direction, text).
fn rows(b: &Browser) -> Result<Vec<(String, String, String)>> {
    b.find_all("[data-testid=\"transcript-entry\"]")?
        .iter()
        .map(|r| {
            Ok((
                b.attribute(r, "data-lane")?.unwrap_or_default(),
                b.attribute(r, "data-direction")?.unwrap_or_default(),
                b.text(r)?,
            ))
        })
        .collect()
}

/// Checks that the transfer's replies frame its data, in the transcript and
/// on the timeline: the 150 (or 125) before the first data row and arrow,
/// the 226 after the last, as the server sent them, whichever WebSocket
/// delivered first.
fn replies_frame_the_data(b: &Browser, needle: &str) -> Result<()> {
    let rows = rows(b)?;
    let position = |pred: &dyn Fn(&(String, String, String)) -> bool| rows.iter().rposition(pred);
    let data = position(&|r| r.0 == "data" && r.1 == "received" && r.2.contains(needle))
        .expect("the data's row");
    let control = |code: &'static str| {
        move |r: &(String, String, String)| {
            r.0 == "control" && r.1 == "received" && r.2.contains(code)
        }
    };
    let opening = position(&control("150 "))
        .or_else(|| position(&control("125 ")))
        .expect("the 150 row");
    let done = position(&control("226 ")).expect("the 226 row");
    assert!(opening < data && data < done, "rows: {rows:#?}");
    let arrows: Vec<(String, String)> = b
        .find_all("[data-testid=\"timeline-arrow\"]")?
        .iter()
        .map(|a| Ok((b.attribute(a, "data-kind")?.unwrap_or_default(), b.text(a)?)))
        .collect::<Result<_>>()?;
    let data = arrows
        .iter()
        .rposition(|a| a.0 == "data")
        .expect("a data arrow");
    let reply = |code: &str| {
        arrows
            .iter()
            .rposition(|a| a.0 == "response" && a.1.contains(code))
    };
    let opening = reply("150 ")
        .or_else(|| reply("125 "))
        .expect("the 150 arrow");
    let done = reply("226 ").expect("the 226 arrow");
    assert!(opening < data && data < done, "arrows: {arrows:#?}");
    Ok(())
}

fn log_in(b: &Browser, user: &str, password: &str) -> Result<()> {
    b.wait_attribute("relay-status", "data-state", "online")?;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.wait_text("transcript", "220 ")?;
    command(b, &format!("USER {user}"), "331")?;
    command(b, &format!("PASS {password}"), "230")?;
    b.wait_attribute("ftp-login", "data-logged-in", "true")?;
    Ok(())
}

#[test]
fn anonymous_list_and_retr_over_two_passive_data_connections() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/ftp")?;
    let b = &lab.browser;
    b.click(&b.testid("connect")?)?;
    b.wait_attribute("conn-state", "data-state", "open")?;
    b.wait_text("transcript", "220 ")?;
    // The course's session, replayed a line at a time: each step lands in
    // the editor and Enter sends it.
    b.select_option("dialogue-select", "anonymous")?;
    for (line, code) in [("USER anonymous", "331"), ("PASS guest@example.org", "230")] {
        b.click(&b.testid("dialogue-next")?)?;
        let editor = b.testid("editor")?;
        b.wait_until(&format!("{line} in the editor"), || {
            Ok(b.property(&editor, "value")?.filter(|v| v == line))
        })?;
        enter(b, line, code)?;
    }
    b.wait_attribute("ftp-login", "data-logged-in", "true")?;
    let login = b.text(&b.testid("ftp-login")?)?;
    assert!(login.contains("anonymous"), "{login}");
    b.wait_text("dialogue-progress", "line 3 of 9: PWD")?;

    // PASV: the 227 names the port, and the page opens data connection #1.
    command(b, "PASV", "227")?;
    b.wait_text("ftp-data-setup", "passive")?;
    b.wait_until("data connection #1 open", || {
        b.find("[data-testid=\"data-channel\"][data-number=\"1\"][data-state=\"open\"]")
    })?;
    command(b, "LIST", "226")?;
    let lane = wait_data_lane(b, "README.txt")?;
    assert!(lane.contains("pub"), "{lane}");
    wait_data_closed(b, 1)?;
    replies_frame_the_data(b, "README.txt")?;
    // The listing is dissected column by column.
    let listing = b
        .find(
            "[data-testid=\"transcript-entry\"][data-lane=\"data\"][data-direction=\"received\"]",
        )?
        .expect("the listing's row");
    b.click(&listing)?;
    b.wait_attribute("inspector", "data-source", "received")?;
    b.wait_until("the listing's Permissions field", || {
        b.find("[data-testid=\"field\"][data-name=\"Permissions\"]")
    })?;

    // A second PASV, a second data connection, for the file.
    command(b, "CWD pub", "250")?;
    b.wait_text("ftp-cwd", "/pub")?;
    command(b, "PASV", "227")?;
    command(b, "RETR hello.txt", "226")?;
    let lane = wait_data_lane(b, "Hello from the wirelab FTP server!")?;
    assert!(lane.contains("data #2"), "{lane}");
    b.wait_until("data connection #2 closed by the server", || {
        b.find("[data-testid=\"data-channel\"][data-number=\"2\"][data-state=\"closed\"]")
    })?;
    // The download can be saved.
    let save = b.testid("save-file")?;
    assert_eq!(
        b.attribute(&save, "data-name")?.as_deref(),
        Some("hello.txt")
    );

    // The timeline: one control connection (lane 1) and two data
    // connections (lanes 2 and 3), each set up from the page.
    let lanes = b.find_all("[data-testid=\"timeline-lane\"]")?;
    assert_eq!(lanes.len(), 4, "client, control, two data connections");
    let mut connects = connect_lanes(b)?;
    connects.sort();
    assert_eq!(
        connects,
        vec![
            ("0".to_string(), "1".to_string()),
            ("0".to_string(), "2".to_string()),
            ("0".to_string(), "3".to_string())
        ]
    );
    // The control connection is still open; both data connections closed.
    b.wait_attribute("conn-state", "data-state", "open")?;
    let closes =
        b.find_all("[data-testid=\"timeline-arrow\"][data-kind=\"close\"][data-to=\"0\"]")?;
    assert_eq!(closes.len(), 2, "one FIN per data connection");
    Ok(())
}

#[test]
fn active_mode_retr_and_an_upload_from_the_file_picker() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("my notes.txt");
    std::fs::write(&file, "uploaded through the page\r\n")?;
    lab.open("/ftp")?;
    let b = &lab.browser;
    log_in(b, "student", "student")?;

    // Active mode: the relay listens, the page writes the PORT line and
    // explains the arithmetic.
    b.click(&b.testid("listen")?)?;
    let explained = b.wait_text("port-explain", "*256+")?;
    let line = b.text(&b.testid("port-line")?)?;
    assert!(line.starts_with("PORT 127,0,0,1,"), "{line}");
    let editor = b.testid("editor")?;
    b.wait_until("the PORT line in the editor", || {
        Ok(b.property(&editor, "value")?.filter(|v| *v == line))
    })?;
    assert!(explained.contains(&line), "{explained}");
    enter(b, &line, "200")?;
    command(b, "RETR pub/notes.txt", "226")?;
    wait_data_lane(b, "FTP in five lines")?;
    wait_data_closed(b, 1)?;
    replies_frame_the_data(b, "FTP in five lines")?;
    // The server opened that data connection: its set-up goes from the
    // data lane to the client.
    b.wait_until("a TCP set-up from the server", || {
        Ok(connect_lanes(b)?
            .iter()
            .any(|(from, to)| from == "2" && to == "0")
            .then_some(()))
    })?;

    // STOR from the file picker, in binary mode over a passive connection.
    command(b, "CWD upload", "250")?;
    command(b, "TYPE I", "200")?;
    command(b, "PASV", "227")?;
    let picker = b.testid("upload-file")?;
    b.type_text(&picker, &file.display().to_string())?;
    b.wait_text("upload-chosen", "my notes.txt")?;
    b.wait_until("the STOR line in the editor", || {
        Ok(b.property(&editor, "value")?
            .filter(|v| v == "STOR my_notes.txt"))
    })?;
    enter(b, "STOR", "226")?;
    let lane = wait_data_lane(b, "uploaded through the page")?;
    assert!(lane.contains("STOR /upload/my_notes.txt"), "{lane}");
    command(b, "SIZE my_notes.txt", "213")?;
    let replies = received_control(b)?;
    assert!(
        replies.iter().any(|r| r.contains("213 27")),
        "the server stored the 27 bytes: {replies:?}"
    );
    Ok(())
}

#[test]
fn without_a_relay_the_page_says_ftp_needs_it() -> Result<()> {
    let Some(offline) = OfflineSite::open("/ftp")? else {
        return Ok(());
    };
    let b = &offline.browser;
    b.wait_text("needs-relay", "FTP needs the relay")?;
    assert!(b.find("[data-testid=\"connect\"]")?.is_none());
    Ok(())
}
