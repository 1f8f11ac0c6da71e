//! The P2P page in headless Chromium: the slides' DHT query (6 messages,
//! 2 with shortcuts), their figure's peer 15 explained, churn (peer 5
//! leaves, peer 13 joins, a second join refused), and flooding under P18's
//! bound as the node count changes; those need no relay. With one, a real
//! swarm started from the page fills every peer's strip, and its measured
//! time appears beside D_cs and D_P2P, and a sweep over N plots measured
//! client-server and P2P times over both bounds; without one the section
//! says it needs a relay. With a swarm running, the student talks to its
//! seed (handshake, bitfield, interested, unchoke, a 16 KiB request and its
//! piece, each dissected; a 32 KiB request gets the connection dropped),
//! and announces to the tracker from the HTTP workbench, the bencoded
//! reply taken apart.

use anyhow::Result;
use wirelab_e2e::{Browser, Lab, OfflineSite};

fn count(b: &Browser, testid: &str, attribute: &str) -> Result<u64> {
    let value = b.attribute(&b.testid(testid)?, attribute)?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(u64::MAX))
}

/// Sets a number or range input and tells the page, as a student's edit does.
fn set_input(b: &Browser, testid: &str, value: &str) -> Result<()> {
    let input = b.testid(testid)?;
    b.execute(
        "arguments[0].value = arguments[1]; \
         arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
        &[input.arg(), value.into()],
    )?;
    Ok(())
}

#[test]
fn the_slides_dht_query_and_churn() -> Result<()> {
    let Some(site) = OfflineSite::open("/p2p")? else {
        return Ok(());
    };
    let b = &site.browser;
    b.wait_attribute("dht-messages", "data-count", "6")?;
    b.wait_attribute("dht-responsible", "data-peer", "14")?;
    assert_eq!(b.find_all("[data-testid=\"dht-hop\"]")?.len(), 6);
    b.wait_text("dht-messages", "1 → 3 → 4 → 5 → 8 → 10 → 12")?;
    // Shortcuts: 1 → 10 → 12.
    b.click(&b.testid("dht-shortcuts")?)?;
    b.wait_attribute("dht-messages", "data-count", "2")?;
    assert_eq!(b.find_all("[data-testid=\"dht-hop\"]")?.len(), 2);
    // The figure's ring: key 1110 is peer 15's, and the page says why.
    b.click(&b.testid("dht-figure")?)?;
    b.wait_attribute("dht-responsible", "data-peer", "15")?;
    b.wait_text("dht-erratum", "peer 15 (1111)")?;
    // Back to the text's ring; peer 5 leaves, peer 4 repairs.
    b.click(&b.testid("dht-course")?)?;
    b.wait_attribute("dht-responsible", "data-peer", "14")?;
    assert!(b.find("[data-testid=\"dht-erratum\"]")?.is_none());
    b.click(&b.testid("dht-leave")?)?;
    b.wait_text("dht-repairs", "peer 4 notices 5 is gone")?;
    assert!(
        b.find("[data-testid=\"dht-peer\"][data-id=\"5\"]")?
            .is_none()
    );
    // Peer 13 joins between 12 and 14; joining twice is refused.
    b.click(&b.testid("dht-join")?)?;
    b.wait_text("dht-repairs", "peer 12 learns of 13")?;
    assert!(
        b.find("[data-testid=\"dht-peer\"][data-id=\"13\"]")?
            .is_some()
    );
    b.click(&b.testid("dht-join")?)?;
    b.wait_text("dht-refused", "already in the ring")?;
    // Key 15 wraps round to peer 1.
    set_input(b, "dht-key-input", "15")?;
    b.wait_attribute("dht-responsible", "data-peer", "1")?;
    Ok(())
}

#[test]
fn flooding_stays_under_p18s_bound() -> Result<()> {
    let Some(site) = OfflineSite::open("/p2p")? else {
        return Ok(());
    };
    let b = &site.browser;
    // N = 4, K = 3: the bound is 4 + 12 + 36.
    b.wait_attribute("flood-bound", "data-bound", "52")?;
    let at_three = count(b, "flood-messages", "data-count")?;
    assert!((1..=52).contains(&at_three), "{at_three}");
    let reached_at_three = count(b, "flood-reached", "data-count")?;
    // K = 1: only Alice's neighbours hear it, and forward nothing.
    set_input(b, "flood-ttl", "1")?;
    b.wait_attribute("flood-bound", "data-bound", "4")?;
    let at_one = count(b, "flood-messages", "data-count")?;
    assert!(at_one <= 4 && at_one < at_three, "{at_one} {at_three}");
    assert_eq!(count(b, "flood-reached", "data-count")?, at_one);
    let reached = b.find_all("[data-testid=\"flood-peer\"][data-hop=\"1\"]")?;
    assert_eq!(reached.len() as u64, at_one);
    // K = 6 reaches at least as many peers as K = 3.
    set_input(b, "flood-ttl", "6")?;
    b.wait_attribute("flood-bound", "data-bound", "1456")?;
    assert!(count(b, "flood-reached", "data-count")? >= reached_at_three);
    assert!(count(b, "flood-messages", "data-count")? <= 1456);
    b.wait_text("flood-supernodes", "group leaders")?;
    Ok(())
}

/// Three leechers, a 256 KiB file in 4 pieces, F/u = 2 s, u_s = 10u,
/// d_i = u_s: D_cs = 3F/u_s = 0.6 s, D_P2P = 3F/(u_s + 3u) = 6/13 s.
fn small_swarm(b: &Browser) -> Result<()> {
    b.wait_until("the swarm's start button", || {
        b.find("[data-testid=\"swarm-start\"]")
    })?;
    for (testid, value) in [
        ("swarm-peers", "3"),
        ("swarm-file", "256"),
        ("swarm-piece", "64"),
        ("swarm-us", "1280"),
        ("swarm-ui", "128"),
        ("swarm-di", "1280"),
    ] {
        set_input(b, testid, value)?;
    }
    Ok(())
}

/// The sweep up to N = 2 on the small swarm's file and rates: four runs,
/// client-server then P2P for N = 1 and 2, each a point of its own series
/// over the bounds' lines, each with its sentence against its bound.
#[test]
fn a_sweep_plots_client_server_and_p2p_measured_against_both_bounds() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/p2p")?;
    let b = &lab.browser;
    small_swarm(b)?;
    set_input(b, "swarm-peers", "2")?;
    b.wait_text("swarm-sweep-start", "client-server and P2P for N = 1, 2")?;
    b.click(&b.testid("swarm-sweep-start")?)?;
    b.wait_until("the sweep's plot", || {
        b.find("[data-testid=\"swarm-sweep\"]")
    })?;
    // One run after the other: each point within the wait of the one before.
    for points in 1..=4 {
        b.wait_attribute("swarm-sweep", "data-points", &points.to_string())?;
    }
    b.wait_attribute("swarm-sweep", "data-cs-points", "2")?;
    b.wait_attribute("swarm-sweep", "data-p2p-points", "2")?;
    assert_eq!(b.find_all("[data-testid=\"swarm-point-cs\"]")?.len(), 2);
    assert_eq!(b.find_all("[data-testid=\"swarm-point-p2p\"]")?.len(), 2);
    let notes = b.wait_text("swarm-sweep-notes", "N = 2, P2P: ")?;
    eprintln!("{notes}");
    assert!(notes.contains("N = 1, client-server: "), "{notes}");
    assert!(notes.contains("× D_cs"), "{notes}");
    assert!(notes.contains("× D_P2P"), "{notes}");
    assert!(notes.contains("Client-server took"), "{notes}");
    Ok(())
}

#[test]
fn a_real_swarm_fills_and_is_measured_against_the_bounds() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/p2p")?;
    let b = &lab.browser;
    small_swarm(b)?;
    b.click(&b.testid("swarm-start")?)?;
    b.wait_text("swarm-phase", "every leecher has the file")?;
    let peers = b.find_all("[data-testid=\"swarm-peer\"]")?;
    assert_eq!(peers.len(), 4);
    for peer in &peers {
        assert_eq!(b.attribute(peer, "data-pieces")?.as_deref(), Some("4"));
        assert_eq!(b.attribute(peer, "data-done")?.as_deref(), Some("true"));
    }
    let measured = b.attribute(&b.testid("swarm-measured")?, "data-secs")?;
    let measured: f64 = measured.unwrap_or_default().parse()?;
    assert!(measured > 0.0, "{measured}");
    eprintln!("the swarm took {measured} s");
    let bounds = b.testid("swarm-bounds")?;
    assert_eq!(b.attribute(&bounds, "data-cs")?.as_deref(), Some("0.600"));
    assert_eq!(b.attribute(&bounds, "data-p2p")?.as_deref(), Some("0.462"));
    b.wait_text("swarm-gap", "× D_P2P")?;
    b.wait_text("swarm-rarest", "of 4 peers")?;
    Ok(())
}

#[test]
fn without_a_relay_the_swarm_says_it_needs_one() -> Result<()> {
    let Some(site) = OfflineSite::open("/p2p")? else {
        return Ok(());
    };
    site.browser.wait_text("swarm-offline", "connect to one")?;
    assert!(
        site.browser
            .find("[data-testid=\"swarm-start\"]")?
            .is_none()
    );
    Ok(())
}

/// The stepped swarm needs no relay: a step of 1 s fills some pieces, the
/// next round lands on 10 s of swarm time with the choker's decisions
/// logged, and starting again goes back to 0.
#[test]
fn the_simulated_swarm_steps_through_its_choke_rounds() -> Result<()> {
    let Some(site) = OfflineSite::open("/p2p")? else {
        return Ok(());
    };
    let b = &site.browser;
    b.wait_until("the step button", || b.find("[data-testid=\"swarm-step\"]"))?;
    b.click(&b.testid("swarm-step")?)?;
    b.wait_attribute("swarm-step-time", "data-ms", "1000")?;
    b.click(&b.testid("swarm-step-round")?)?;
    b.wait_attribute("swarm-step-time", "data-ms", "10000")?;
    let log = b.wait_text("swarm-step-log", "t = 10.0 s")?;
    assert!(log.contains("the 10 s round: top 4 by rate"), "{log}");
    let filled: u64 = b
        .find_all("[data-testid=\"step-peer\"]")?
        .iter()
        .map(|row| {
            b.attribute(row, "data-pieces")
                .ok()
                .flatten()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        })
        .sum();
    // The seed's 16 and more: leechers have pieces after 10 s.
    assert!(filled > 16, "{filled} pieces held");
    b.click(&b.testid("swarm-step-reset")?)?;
    b.wait_attribute("swarm-step-time", "data-ms", "0")?;
    Ok(())
}

/// A piece the peer sent, in the peer wire workbench's list.
const RECEIVED_PIECE: &str =
    "[data-testid=\"wire-message\"][data-direction=\"received\"][data-name=\"piece\"]";

/// Starts the small swarm from the page and waits for its peer wire
/// workbench.
fn start_swarm(b: &Browser) -> Result<()> {
    small_swarm(b)?;
    b.click(&b.testid("swarm-start")?)?;
    b.wait_until("the peer wire workbench", || {
        b.find("[data-testid=\"peer-wire\"]")
    })?;
    Ok(())
}

/// The names of the peer wire messages listed that went `direction`.
fn wire_names(b: &Browser, direction: &str) -> Result<Vec<String>> {
    let css = format!("[data-testid=\"wire-message\"][data-direction=\"{direction}\"]");
    b.find_all(&css)?
        .iter()
        .map(|m| Ok(b.attribute(m, "data-name")?.unwrap_or_default()))
        .collect()
}

#[test]
fn a_student_talks_to_the_seed_and_gets_a_block_dissected() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/p2p")?;
    let b = &lab.browser;
    start_swarm(b)?;
    b.click(&b.testid("wire-replay")?)?;
    let piece = b.wait_until("the piece that answers the request", || {
        b.find(RECEIVED_PIECE)
    })?;
    assert_eq!(
        wire_names(b, "sent")?,
        ["handshake", "interested", "request"]
    );
    let received = wire_names(b, "received")?;
    assert_eq!(received[..2], ["handshake", "bitfield"], "{received:?}");
    assert!(received.contains(&"unchoke".to_string()), "{received:?}");
    b.click(&piece)?;
    let shown = b.wait_text("inspector", "Block")?;
    assert!(shown.contains("Length prefix"), "{shown}");
    assert!(shown.contains("16384 bytes"), "{shown}");
    b.wait_text("dissection-summary", "piece")?;

    // Replayed again on the open connection: a new connection, the same
    // dialogue (the old one's messages leave the list).
    let before = b.text(&b.testid("wire-state")?)?;
    b.click(&b.testid("wire-replay")?)?;
    b.wait_until("a new connection", || {
        let now = b.text(&b.testid("wire-state")?)?;
        Ok((now != before && now.starts_with("connected")).then_some(()))
    })?;
    b.wait_until("the piece again", || b.find(RECEIVED_PIECE))?;
    assert_eq!(
        wire_names(b, "sent")?,
        ["handshake", "interested", "request"]
    );

    // Over 16 KiB: said before it goes, and the peer drops the connection.
    b.select_option("wire-pick", "request 0 0 32768")?;
    b.wait_text("wire-caution", "drop the connection")?;
    b.click(&b.testid("wire-send")?)?;
    b.wait_text("wire-dropped", "32768 bytes")?;
    b.wait_attribute("wire-state", "data-state", "closed")?;
    Ok(())
}

#[test]
fn the_tracker_announce_on_http_is_dissected_as_bencode() -> Result<()> {
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    lab.open_online("/p2p")?;
    start_swarm(&lab.browser)?;
    lab.open_online("/http")?;
    let b = &lab.browser;
    b.select_option("template-select", "tracker-announce")?;
    let editor = b.testid("editor")?;
    b.wait_until("the swarm's info hash in the announce", || {
        let text = b.property(&editor, "value")?.unwrap_or_default();
        Ok((text.contains("info_hash=") && !text.contains("PASTE-THE-INFO-HASH")).then_some(()))
    })?;
    let picker = b.testid("target-select")?;
    b.wait_until("the tracker picked as the server", || {
        Ok((b.property(&picker, "value")?.as_deref() == Some("tracker")).then_some(()))
    })?;
    b.click(&b.testid("send")?)?;
    let reply = "[data-testid=\"transcript-entry\"][data-direction=\"received\"]";
    let reply = b.wait_until("the tracker's reply", || b.find(reply))?;
    b.click(&reply)?;
    let shown = b.wait_text("inspector", "Tracker reply")?;
    for part in ["interval", "Compact peers", "127.0.2.1:"] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
    Ok(())
}
