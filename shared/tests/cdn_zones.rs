//! Golden tests of content distribution's DNS. `fixtures/dns/*.zone` are
//! the zone files the lab ships (checked here, so `golden.rs`'s
//! dissections of them are of what ships), and `cdn-answers.golden` holds
//! what dns.cdn.com answers each client address, as dig prints it: one
//! replica per region. `WIRELAB_BLESS=1` rewrites the fixtures after a
//! deliberate change; review the diff.

use std::path::{Path, PathBuf};
use wirelab_shared::dns::hierarchy::{default_zone, server};
use wirelab_shared::dns::{Message, Name, Question, RecordType};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dns")
        .join(name)
}

fn bless() -> bool {
    std::env::var_os("WIRELAB_BLESS").is_some()
}

/// Compares `actual` with the fixture `name`, or writes it when blessing.
fn check(name: &str, actual: &str) {
    let path = fixture(name);
    if bless() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing (WIRELAB_BLESS=1 writes it)", path.display()));
    assert_eq!(
        expected,
        actual,
        "{} differs (WIRELAB_BLESS=1 rewrites it; review the diff)",
        path.display()
    );
}

#[test]
fn the_zone_fixtures_are_the_zones_the_lab_ships() {
    for file in ["cdn.com.zone", "sina.com.zone"] {
        check(file, default_zone(file).expect("a default zone"));
    }
}

#[test]
fn the_cdn_answers_each_client_as_recorded() {
    let cdn = server("dns-cdn").expect("dns-cdn").default_authority();
    let query = Message::query(
        0xcd17,
        Question::new(Name::parse("www.cdn.com").unwrap(), RecordType::A),
        false,
    );
    let mut text = String::new();
    for client in [
        "127.0.0.1",
        "127.0.0.80",
        "127.0.255.254",
        "127.1.0.7",
        "127.1.0.80",
        "127.1.255.254",
        "127.2.0.1",
        "127.255.255.254",
        "::1",
    ] {
        let reply = cdn.answer_message_to(&query, Some(client.parse().unwrap()));
        text.push_str(&format!("; dig -b {client} @127.0.0.50 www.cdn.com A\n"));
        text.push_str(&reply.to_text());
        text.push('\n');
    }
    check("cdn-answers.golden", &text);
}
