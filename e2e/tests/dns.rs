//! The DNS workbench in headless Chromium against the lab's name hierarchy:
//! gaia.cs.umass.edu resolved by hand from the root by following the
//! referrals (the 8 messages of the course's figure, the host's two
//! included), then recursively through the local resolver with its trace
//! drawn and its cache answering the second time, and a missing name
//! answered NXDOMAIN with the zone's SOA (over TCP, from the one-liner);
//! the walk through dns.umass.edu's referral to dns.cs.umass.edu, each
//! drawn in a lane of its own; and the walk by hand again with no relay,
//! on the in-browser servers.

use anyhow::{Context, Result, bail, ensure};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use wirelab_e2e::{Browser, Lab, OfflineSite};

/// The round-trip test reads a simulated 40 ms to within 2 ms; the other
/// tests of this file, each with its own Chromium and relay, would steal
/// the two cores' time from its timers. They run side by side with each
/// other, and that one alone.
static TIMING: RwLock<()> = RwLock::new(());

fn beside_others() -> RwLockReadGuard<'static, ()> {
    TIMING
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn alone() -> RwLockWriteGuard<'static, ()> {
    TIMING
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Select-all in a field, so that typing replaces its text (WebDriver's
/// Control key, then the NULL key releasing it).
const SELECT_ALL: &str = "\u{E009}a\u{E000}";

fn count(b: &Browser, css: &str) -> Result<usize> {
    Ok(b.find_all(css)?.len())
}

fn wait_count(b: &Browser, css: &str, n: usize) -> Result<()> {
    let mut seen = 0;
    b.wait_until(&format!("{n} of {css}"), || {
        seen = count(b, css)?;
        Ok((seen == n).then_some(()))
    })
    .with_context(|| format!("{css}: {seen} found"))
}

fn value(b: &Browser, testid: &str) -> Result<String> {
    Ok(b.property(&b.testid(testid)?, "value")?.unwrap_or_default())
}

fn open_dns(lab: &mut Lab) -> Result<()> {
    lab.open_online("/dns")?;
    // The catalog has arrived once the server list names the root.
    lab.browser.wait_until("the DNS servers in the list", || {
        lab.browser
            .find("[data-testid=\"target-select\"] option[value=\"dns-root\"]")
    })?;
    Ok(())
}

/// Sends the draft and waits for the reply (or failure) of query `n`
/// (counting from 1) in the transcript.
/// Recursive mode: the local resolver chosen, RD set.
fn choose_recursive(b: &Browser) -> Result<()> {
    b.click(&b.testid("mode-recursive")?)?;
    b.wait_until("the resolver chosen, RD on", || {
        let rd = b.property(&b.testid("flag-rd")?, "checked")?;
        Ok((value(b, "target-select")? == "dns" && rd.as_deref() == Some("true")).then_some(()))
    })?;
    Ok(())
}

fn send(b: &Browser, n: usize) -> Result<()> {
    b.click(&b.testid("send")?)?;
    b.wait_until(&format!("the reply to query {n}"), || {
        let replies = count(
            b,
            "[data-testid=\"transcript-entry\"][data-direction=\"received\"]",
        )?;
        let state = b.attribute(&b.testid("conn-state")?, "data-state")?;
        ensure!(
            state.as_deref() != Some("failed"),
            "the query failed: {}",
            b.text(&b.testid("conn-state")?)?
        );
        Ok((replies >= n).then_some(()))
    })
}

fn follow(b: &Browser, server: &str) -> Result<()> {
    let css = format!("[data-testid=\"follow\"][data-server=\"{server}\"]");
    let button = b.wait_until(&format!("a button to follow to {server}"), || b.find(&css))?;
    b.click(&button)?;
    b.wait_until(&format!("{server} chosen"), || {
        Ok((value(b, "target-select")? == server).then_some(()))
    })?;
    Ok(())
}

#[test]
fn gaia_by_hand_from_the_root_takes_the_eight_messages_of_the_figure() -> Result<()> {
    let _timing = beside_others();
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    open_dns(&mut lab)?;
    let b = &lab.browser;
    // The page starts with the course's iterative query to the root.
    assert_eq!(value(b, "target-select")?, "dns-root");
    let one_liner = value(b, "one-liner")?;
    assert!(
        one_liner.starts_with("gaia.cs.umass.edu A @dns-root +norecurse +id="),
        "{one_liner}"
    );
    // The RD bit of the flags word, the checkbox and the bytes follow
    // each other.
    let rd_bit = "[data-testid=\"flag-bit\"][data-field=\"RD\"]";
    b.click(&b.find(rd_bit)?.context("the RD bit")?)?;
    b.wait_until("RD checked", || {
        Ok(
            (b.property(&b.testid("flag-rd")?, "checked")?.as_deref() == Some("true"))
                .then_some(()),
        )
    })?;
    assert!(!value(b, "one-liner")?.contains("+norecurse"));
    assert!(
        value(b, "hex-editor")?
            .lines()
            .next()
            .unwrap_or("")
            .contains(" 01 00 ")
    );
    b.click(&b.find(rd_bit)?.context("the RD bit")?)?;
    b.wait_attribute("flag-bits", "data-flags", "0000")?;
    assert!(value(b, "one-liner")?.contains("+norecurse"));

    // 2-3: the root refers to edu.
    send(b, 1)?;
    b.wait_attribute("outcome", "data-kind", "referral")?;
    b.wait_text("outcome", "referral to edu.")?;
    b.wait_attribute("message-count", "data-count", "3")?;
    // 4-5: the edu TLD server refers to umass.edu.
    follow(b, "dns-edu")?;
    assert!(value(b, "one-liner")?.contains("@dns-edu +norecurse"));
    send(b, 2)?;
    b.wait_text("outcome", "referral to umass.edu.")?;
    // 6-7: dns.cs.umass.edu (listed first, with its glue) answers.
    follow(b, "dns-cs-umass")?;
    send(b, 3)?;
    b.wait_attribute("outcome", "data-kind", "answer")?;
    b.wait_text("outcome", "128.119.245.12")?;
    // 8: the answer handed back to the host.
    b.wait_attribute("walk", "data-finished", "true")?;
    b.wait_attribute("message-count", "data-count", "8")?;
    let steps: Vec<String> = b
        .find_all("[data-testid=\"walk-step\"]")?
        .iter()
        .map(|s| b.attribute(s, "data-server").map(Option::unwrap_or_default))
        .collect::<Result<_>>()?;
    assert_eq!(steps, ["dns-root", "dns-edu", "dns-cs-umass"]);
    assert!(
        b.find("[data-testid=\"follow\"]")?.is_none(),
        "nothing left to follow"
    );
    // The figure: eight numbered arrows across the five lanes.
    wait_count(b, "[data-testid=\"timeline-lane\"]", 5)?;
    wait_count(b, "[data-testid=\"timeline-arrow\"]", 8)?;
    let ends: Vec<(String, String)> = b
        .find_all("[data-testid=\"timeline-arrow\"]")?
        .iter()
        .map(|a| {
            Ok((
                b.attribute(a, "data-from")?.unwrap_or_default(),
                b.attribute(a, "data-to")?.unwrap_or_default(),
            ))
        })
        .collect::<Result<_>>()?;
    let expected = [
        (0, 1),
        (1, 2),
        (2, 1),
        (1, 3),
        (3, 1),
        (1, 4),
        (4, 1),
        (1, 0),
    ];
    assert_eq!(
        ends,
        expected.map(|(f, t)| (f.to_string(), t.to_string())),
        "host → local → root → local → TLD → local → authoritative → local → host"
    );
    let last = b
        .find("[data-testid=\"timeline-arrow\"][data-index=\"7\"] .label")?
        .context("arrow 8")?;
    assert!(b.text(&last)?.starts_with("8 "));
    // Message 8 is the local server's answer: recursion available, not
    // authoritative.
    b.click(&last)?;
    b.wait_attribute("inspector", "data-source", "host")?;
    let summary = b.wait_text("dissection-summary", "128.119.245.12")?;
    assert!(summary.contains("[qr rd ra]"), "{summary}");
    // Only the six messages that crossed the wire are in the transcript.
    assert_eq!(
        count(
            b,
            "[data-testid=\"transcript-entry\"][data-direction=\"sent\"]"
        )?,
        3
    );
    assert_eq!(
        count(
            b,
            "[data-testid=\"transcript-entry\"][data-direction=\"received\"]"
        )?,
        3
    );
    Ok(())
}

#[test]
fn gaia_recursively_draws_the_trace_then_comes_from_the_cache() -> Result<()> {
    let _timing = beside_others();
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    open_dns(&mut lab)?;
    let b = &lab.browser;
    choose_recursive(b)?;
    send(b, 1)?;
    b.wait_text("outcome", "128.119.245.12")?;
    // The resolver's trace, numbered 1-8 as in the figure.
    b.wait_attribute("trace-summary", "data-messages", "8")?;
    b.wait_attribute("trace-summary", "data-upstream", "3")?;
    let numbers: Vec<String> = b
        .find_all("[data-testid=\"trace-event\"]")?
        .iter()
        .filter_map(|e| b.attribute(e, "data-n").transpose())
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(numbers, ["1", "2", "3", "4", "5", "6", "7", "8"]);
    wait_count(b, "[data-testid=\"timeline-arrow\"]", 8)?;
    let roles: Vec<String> = b
        .find_all("[data-testid=\"timeline-lane\"]")?
        .iter()
        .map(|l| b.text(l))
        .collect::<Result<_>>()?;
    assert!(roles[2].contains("a.root-servers.net"), "{roles:?}");
    assert!(roles[3].contains("a.edu-servers.net"), "{roles:?}");
    assert!(roles[4].contains("dns.cs.umass.edu"), "{roles:?}");
    // The answer is in the cache, its TTL counting down.
    let entry = "[data-testid=\"cache-entry\"][data-name=\"gaia.cs.umass.edu.\"][data-type=\"A\"] [data-testid=\"cache-ttl\"]";
    let ttl = b.wait_until("gaia in the cache", || b.find(entry))?;
    let first: u64 = b.attribute(&ttl, "data-ttl")?.unwrap_or_default().parse()?;
    assert!(first <= 3600 && first > 3000, "{first}");
    b.wait_until("the TTL to count down", || {
        let ttl = b.find(entry)?.context("the entry")?;
        let now: u64 = b.attribute(&ttl, "data-ttl")?.unwrap_or_default().parse()?;
        Ok((now < first).then_some(()))
    })?;
    // Asked again (a new ID), the local server answers from its cache.
    b.click(&b.testid("new-id")?)?;
    send(b, 2)?;
    b.wait_attribute("trace-summary", "data-upstream", "0")?;
    b.wait_attribute("trace-summary", "data-messages", "2")?;
    b.wait_text("trace-summary", "from the cache")?;
    ensure!(
        b.find("[data-testid=\"trace-event\"][data-kind=\"cache\"]")?
            .is_some(),
        "the cache hit is listed"
    );
    wait_count(b, "[data-testid=\"timeline-arrow\"]", 2)?;
    Ok(())
}

/// The round trips the resolver's trace shows are the network's: with the
/// simulated distance on, the root holds its reply 40 ms, and the trace
/// must say 40 ms give or take 2, not what the relay's timers add.
///
/// On two cores shared with Chromium, a debug relay and the test, one
/// resolution in a few came back 43 ms in CI (a scheduling hiccup, once on
/// a quiet machine): each try is a fresh lab with an empty cache, and one
/// of three must show the root's distance. A relay whose timers added to
/// every round trip (the 2 ms of the old delay line) fails all three.
#[test]
fn the_trace_shows_the_roots_distance_as_its_round_trip() -> Result<()> {
    let _timing = alone();
    let mut shown = Vec::new();
    for _ in 0..3 {
        let Some(rtt) = roots_round_trip()? else {
            return Ok(());
        };
        if (38.0..=42.0).contains(&rtt) {
            return Ok(());
        }
        shown.push(rtt);
    }
    bail!("the root is 40 ms away, the trace said {shown:?} ms in three tries")
}

/// One recursive resolution in a fresh lab: the round trip the trace shows
/// for the root's referral (message 3), or `None` where the browser skips.
fn roots_round_trip() -> Result<Option<f64>> {
    let Some(mut lab) = Lab::start(|c| c.servers.dns.simulate_distance = true) else {
        return Ok(None);
    };
    open_dns(&mut lab)?;
    let b = &lab.browser;
    choose_recursive(b)?;
    send(b, 1)?;
    b.wait_attribute("trace-summary", "data-messages", "8")?;
    let root_reply = b
        .find("[data-testid=\"trace-event\"][data-n=\"3\"]")?
        .context("message 3 in the trace")?;
    let rtt = b
        .attribute(&root_reply, "data-rtt-ms")?
        .unwrap_or_default()
        .parse()
        .context("message 3 carries its round trip")?;
    Ok(Some(rtt))
}

#[test]
fn a_missing_name_gets_nxdomain_with_the_soa_over_tcp() -> Result<()> {
    let _timing = beside_others();
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    open_dns(&mut lab)?;
    let b = &lab.browser;
    let one_liner = b.testid("one-liner")?;
    // A mistake is pointed at, word and all.
    b.type_text(
        &one_liner,
        &format!("{SELECT_ALL}gaia.cs.umass.edu +norecurs"),
    )?;
    let error = b.wait_text("one-liner-error", "unknown option +norecurs")?;
    assert!(error.contains("^^^^^^^^^"), "{error}");
    b.type_text(
        &one_liner,
        &format!("{SELECT_ALL}nosuchhost.cs.umass.edu A @dns-cs-umass +norecurse +tcp"),
    )?;
    b.wait_until("the one-liner applied", || {
        Ok((value(b, "target-select")? == "dns-cs-umass"
            && value(b, "transport")? == "tcp"
            && value(b, "qname")? == "nosuchhost.cs.umass.edu")
            .then_some(()))
    })?;
    assert!(b.find("[data-testid=\"one-liner-error\"]")?.is_none());
    // Over TCP the draft has its two-byte length in front.
    b.wait_until("the length prefix in the draft", || {
        b.find("[data-testid=\"dissection\"] [data-testid=\"field\"][data-name=\"Length\"]")
    })?;
    // Enter in the one-liner sends, as in a terminal.
    b.type_text(&one_liner, "\u{E007}")?;
    b.wait_attribute("outcome", "data-kind", "nxdomain")?;
    let soa = b.wait_text("outcome-soa", "SOA of cs.umass.edu.")?;
    assert!(soa.contains("300 s"), "{soa}");
    // The reply itself: the SOA in its authority section.
    let reply = b
        .find("[data-testid=\"transcript-entry\"][data-direction=\"received\"]")?
        .context("the reply")?;
    assert!(b.text(&reply)?.contains("NXDOMAIN"));
    b.click(&reply)?;
    b.wait_attribute("inspector", "data-source", "received")?;
    let authority = b.wait_until("the authority section", || {
        b.find("[data-testid=\"field\"][data-name=\"Authority section\"]")
    })?;
    let text = b.text(&authority)?;
    assert!(
        text.contains("SOA") && text.contains("hostmaster.cs.umass.edu."),
        "{text}"
    );
    Ok(())
}

#[test]
fn each_lane_of_the_walk_is_labelled_with_the_server_that_answered() -> Result<()> {
    let _timing = beside_others();
    let Some(mut lab) = Lab::start(|_| {}) else {
        return Ok(());
    };
    open_dns(&mut lab)?;
    let b = &lab.browser;
    send(b, 1)?;
    follow(b, "dns-edu")?;
    send(b, 2)?;
    // edu names both of umass.edu's servers: take dns.umass.edu, which
    // refers gaia.cs.umass.edu on to cs.umass.edu's server.
    follow(b, "dns-umass")?;
    send(b, 3)?;
    b.wait_text("outcome", "referral to cs.umass.edu.")?;
    follow(b, "dns-cs-umass")?;
    send(b, 4)?;
    b.wait_text("outcome", "128.119.245.12")?;
    b.wait_attribute("message-count", "data-count", "10")?;
    wait_count(b, "[data-testid=\"timeline-arrow\"]", 10)?;
    let lanes: Vec<String> = b
        .find_all("[data-testid=\"timeline-lane\"]")?
        .iter()
        .map(|l| b.text(l))
        .collect::<Result<_>>()?;
    let lane = |host: &str| {
        lanes
            .iter()
            .position(|l| l.trim() == format!("authoritative: {host}"))
            .with_context(|| format!("no lane for {host} in {lanes:?}"))
    };
    let (umass, cs) = (lane("dns.umass.edu")?, lane("dns.cs.umass.edu")?);
    assert_ne!(umass, cs);
    // Messages 6-7 are dns.umass.edu's, 8-9 dns.cs.umass.edu's.
    for (index, from, to) in [(5, 1, umass), (6, umass, 1), (7, 1, cs), (8, cs, 1)] {
        let arrow = b
            .find(&format!(
                "[data-testid=\"timeline-arrow\"][data-index=\"{index}\"]"
            ))?
            .with_context(|| format!("arrow {}", index + 1))?;
        let ends = (
            b.attribute(&arrow, "data-from")?.unwrap_or_default(),
            b.attribute(&arrow, "data-to")?.unwrap_or_default(),
        );
        assert_eq!(
            ends,
            (from.to_string(), to.to_string()),
            "message {} in {lanes:?}",
            index + 1
        );
    }
    Ok(())
}

#[test]
fn the_walk_by_hand_works_in_the_page_without_a_relay() -> Result<()> {
    let _timing = beside_others();
    let Some(offline) = OfflineSite::open("/dns")? else {
        return Ok(());
    };
    let b = &offline.browser;
    // The resolver needs the relay; the hierarchy runs in the page.
    let recursive = b.testid("mode-recursive")?;
    assert_eq!(b.property(&recursive, "disabled")?.as_deref(), Some("true"));
    b.wait_until("the in-browser root", || {
        b.find("[data-testid=\"target-select\"] option[value=\"dns-root\"]")
    })?;
    send(b, 1)?;
    b.wait_text("outcome", "referral to edu.")?;
    follow(b, "dns-edu")?;
    send(b, 2)?;
    follow(b, "dns-cs-umass")?;
    send(b, 3)?;
    b.wait_text("outcome", "128.119.245.12")?;
    b.wait_attribute("message-count", "data-count", "8")?;
    Ok(())
}
