//! The built page as the relay serves it: the `.br` and `.gz` copies that
//! `cargo xtask dist` leaves beside the big files go to the browsers that
//! accept them, and every encoding decodes to the same bytes.

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::Path;

/// Bytes shaped like a module (the magic, then repetitive code), large
/// enough that both encoders shrink them.
fn fake_wasm() -> Vec<u8> {
    let mut bytes = b"\0asm\x01\0\0\0".to_vec();
    for i in 0..20_000u32 {
        bytes.extend_from_slice(&(i % 251).to_le_bytes());
    }
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
    out
}

/// Decodes a body by its Content-Encoding (none, gzip or br).
fn decode(head: &str, body: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    match header(head, "content-encoding").as_deref() {
        None => plain.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut plain)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut plain)
                .unwrap();
        }
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
    plain
}

/// The value of a response header, lowercased.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_ascii_lowercase())
    })
}

/// A dist folder with the shell, the WASM with both copies and a stylesheet
/// with a gzip copy only.
fn write_dist(dir: &Path, wasm: &[u8], css: &[u8]) {
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<p>the shell</p>").unwrap();
    let module = dir.join("pkg/wirelab_frontend_bg.wasm");
    std::fs::write(&module, wasm).unwrap();
    std::fs::write(module.with_extension("wasm.gz"), gzip(wasm)).unwrap();
    std::fs::write(module.with_extension("wasm.br"), brotli(wasm)).unwrap();
    std::fs::write(dir.join("style.css"), css).unwrap();
    std::fs::write(dir.join("style.css.gz"), gzip(css)).unwrap();
}

#[tokio::test]
async fn the_wasm_goes_out_in_the_best_encoding_the_browser_accepts() {
    let wasm = fake_wasm();
    let dist = tempfile::tempdir().unwrap();
    write_dist(dist.path(), &wasm, b"body {}");
    let dist_path = dist.path().to_path_buf();
    let relay = start(move |c| c.dist = dist_path).await;

    // Chromium over HTTPS and on localhost, then over plain HTTP, then
    // single encodings, then a client that accepts nothing.
    let cases: [(&[&str], Option<&str>); 5] = [
        (&["Accept-Encoding: gzip, deflate, br, zstd"], Some("br")),
        (&["Accept-Encoding: gzip, deflate"], Some("gzip")),
        (&["Accept-Encoding: br"], Some("br")),
        (&["Accept-Encoding: gzip"], Some("gzip")),
        (&[], None),
    ];
    let mut sizes = Vec::new();
    for (headers, expected) in cases {
        let (status, head, body) = relay
            .request_bytes("GET", "/pkg/wirelab_frontend_bg.wasm", headers, "")
            .await;
        assert_eq!(status, 200, "{head}");
        assert_eq!(
            header(&head, "content-encoding").as_deref(),
            expected,
            "{headers:?}: {head}"
        );
        assert_eq!(
            header(&head, "content-type").as_deref(),
            Some("application/wasm"),
            "streaming compilation needs the WASM type whatever the encoding: {head}"
        );
        assert_eq!(
            header(&head, "vary").as_deref(),
            Some("accept-encoding"),
            "{head}"
        );
        assert_eq!(decode(&head, &body), wasm, "{headers:?}");
        sizes.push((expected, body.len()));
    }
    let size = |encoding| sizes.iter().find(|(e, _)| *e == encoding).unwrap().1;
    assert!(size(Some("br")) < size(Some("gzip")), "{sizes:?}");
    assert!(size(Some("gzip")) < size(None), "{sizes:?}");
}

#[tokio::test]
async fn a_file_without_a_brotli_copy_goes_out_gzipped_to_a_brotli_browser() {
    let css = "body { color: black; }".repeat(50);
    let dist = tempfile::tempdir().unwrap();
    write_dist(dist.path(), &fake_wasm(), css.as_bytes());
    let dist_path = dist.path().to_path_buf();
    let relay = start(move |c| c.dist = dist_path).await;
    let (status, head, body) = relay
        .request_bytes("GET", "/style.css", &["Accept-Encoding: br, gzip"], "")
        .await;
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-encoding").as_deref(), Some("gzip"));
    assert!(header(&head, "content-type").is_some_and(|t| t.starts_with("text/css")));
    assert_eq!(decode(&head, &body), css.as_bytes());
    // A page route still gets the shell.
    let (status, _, body) = relay
        .request_bytes("GET", "/sockets", &["Accept-Encoding: br, gzip"], "")
        .await;
    assert_eq!((status, body), (200, b"<p>the shell</p>".to_vec()));
}

/// The shell names every module with the build's stamp (`?v=`): those URLs
/// are kept for good, so moving to a page of another module costs only the
/// shell's revalidation; the shell and unstamped files are revalidated.
#[tokio::test]
async fn stamped_files_are_kept_and_the_shell_is_revalidated() {
    let dist = tempfile::tempdir().unwrap();
    write_dist(dist.path(), &fake_wasm(), b"body {}");
    let dist_path = dist.path().to_path_buf();
    let relay = start(move |c| c.dist = dist_path).await;
    let cases = [
        (
            "/pkg/wirelab_frontend_bg.wasm?v=0123abcd",
            200,
            "public, max-age=31536000, immutable",
        ),
        (
            "/style.css?v=0123abcd",
            200,
            "public, max-age=31536000, immutable",
        ),
        ("/pkg/wirelab_frontend_bg.wasm", 200, "no-cache"),
        ("/", 200, "no-cache"),
        ("/dns", 200, "no-cache"),
        ("/pkg/missing.wasm?v=0123abcd", 404, "no-cache"),
    ];
    for (path, status, policy) in cases {
        let (got, head, _) = relay
            .request_bytes("GET", path, &["Accept-Encoding: br, gzip"], "")
            .await;
        assert_eq!(got, status, "{path}: {head}");
        assert_eq!(
            header(&head, "cache-control").as_deref(),
            Some(policy),
            "{path}: {head}"
        );
    }
    // The API is not the site's: its answers carry no site policy.
    let (_, head, _) = relay.request_bytes("GET", "/api/health", &[], "").await;
    assert_ne!(
        header(&head, "cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
}

#[tokio::test]
async fn an_unknown_path_is_a_404_with_the_page_and_every_page_route_a_200() {
    let dist = tempfile::tempdir().unwrap();
    write_dist(dist.path(), &fake_wasm(), b"body {}");
    let dist_path = dist.path().to_path_buf();
    let relay = start(move |c| c.dist = dist_path).await;
    for path in wirelab_shared::pages::PAGE_PATHS
        .iter()
        .copied()
        .chain(["/http/", "/dns?name=gaia"])
    {
        let (status, head, body) = relay.request_bytes("GET", path, &[], "").await;
        assert_eq!(status, 200, "{path}: {head}");
        assert_eq!(body, b"<p>the shell</p>", "{path}");
    }
    for path in ["/instructors", "/http/extra", "/404", "/pkg/missing.wasm"] {
        let (status, head, body) = relay.request_bytes("GET", path, &[], "").await;
        assert_eq!(status, 404, "{path}: {head}");
        assert_eq!(
            body, b"<p>the shell</p>",
            "{path}: the page shows its own 404 view"
        );
    }
    // A browser revalidating its copy of an unknown path still gets the
    // page, not an empty 304.
    let (status, _, body) = relay
        .request_bytes(
            "GET",
            "/instructors",
            &["If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"],
            "",
        )
        .await;
    assert_eq!((status, body), (404, b"<p>the shell</p>".to_vec()));
}
