//! `cargo xtask dist`: builds the page into `dist/` and makes it small on
//! the wire.
//!
//! Every step is a Rust library, so a machine with only rustup and cargo
//! needs nothing else: rustc builds the page (profile `wasm-release`), the
//! `wasm-bindgen-cli-support` library generates the JS glue, and `zopfli`
//! and `brotli` write `.gz` and `.br` copies beside the big files, which the
//! relay sends to browsers that accept them. The sizes of each step are
//! printed, ending with what a first load costs on the wire.

use crate::{WASM_PROFILE, WASM_TARGET, cargo, ensure_wasm_target, root, run_checked, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The files the browser loads for the first page, beside `index.html`.
const FIRST_LOAD: [&str; 4] = [
    "pkg/wirelab_frontend_bg.wasm",
    "pkg/wirelab_frontend.js",
    "static/style.css",
    "static/favicon.svg",
];

/// The files worth a compressed copy (the favicon is a few hundred bytes).
const COMPRESSED: [&str; 3] = [
    "pkg/wirelab_frontend_bg.wasm",
    "pkg/wirelab_frontend.js",
    "static/style.css",
];

/// Builds the page into `dist/`: the shell, the JS glue, the WASM and the
/// static files, with compressed copies. Returns the dist folder.
pub fn dist(debug: bool) -> Result<PathBuf> {
    let wasm = build_wasm(debug)?;
    let rustc_size = file_size(&wasm)?;

    let dist = root().join("dist");
    let staging = root().join("dist.tmp");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(staging.join("pkg"))?;

    generate_bindings(&wasm, &staging.join("pkg"), debug)?;
    let bundle = staging.join("pkg/wirelab_frontend_bg.wasm");

    let shell = std::fs::read_to_string(root().join("index.html")).context("reading index.html")?;
    // A version stamp in the asset URLs, so a browser never mixes an old
    // cached WASM with a new page.
    let wasm_bytes = std::fs::read(&bundle)?;
    let stamp = format!("{:08x}", fnv1a(&wasm_bytes) as u32);
    std::fs::write(
        staging.join("index.html"),
        shell.replace("{{stamp}}", &stamp),
    )?;
    copy_dir(&root().join("static"), &staging.join("static"))?;

    // Compressed copies beside the big files: the relay sends the smallest
    // one the browser accepts (brotli over HTTPS and localhost, gzip
    // everywhere), a fraction of the bytes for a classroom's network.
    // A debug WASM is for this machine's browser, over loopback, and its
    // size would make the copies take minutes.
    if !debug {
        let started = Instant::now();
        for file in COMPRESSED {
            precompress(&staging.join(file))?;
        }
        eprintln!(
            "xtask: gzip and brotli copies in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    std::fs::rename(&staging, &dist)?;
    report_sizes(&dist, rustc_size)?;
    Ok(dist)
}

/// Compiles the page to WebAssembly and returns the `.wasm` rustc wrote.
fn build_wasm(debug: bool) -> Result<PathBuf> {
    ensure_wasm_target()?;
    let profile = if debug { "dev" } else { WASM_PROFILE };
    run_checked(
        cargo().args([
            "build",
            "--package",
            "wirelab-frontend",
            "--lib",
            "--target",
            WASM_TARGET,
            "--profile",
            profile,
        ]),
        &format!("building the page for {WASM_TARGET} ({profile})"),
    )?;
    let profile_dir = if debug { "debug" } else { WASM_PROFILE };
    Ok(target_dir()
        .join(WASM_TARGET)
        .join(profile_dir)
        .join("wirelab_frontend.wasm"))
}

/// Writes the JS glue and the bindgen'd WASM into `pkg`.
fn generate_bindings(wasm: &Path, pkg: &Path, debug: bool) -> Result<()> {
    let version = check_bindgen_pin()?;
    eprintln!("xtask: generating the JS bindings (wasm-bindgen {version})");
    let started = Instant::now();
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name("wirelab_frontend")
        .web(true)?
        .typescript(false)
        .debug(debug)
        // The function names (a third of the module) serve only debuggers
        // and profilers; a debug build keeps them for readable traces.
        .remove_name_section(!debug)
        .remove_producers_section(!debug)
        .generate(pkg)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))?;
    eprintln!(
        "xtask: bindings in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints each step's size and the first load on the wire: for each file
/// the page loads, the smallest copy the relay can send.
fn report_sizes(dist: &Path, rustc_size: u64) -> Result<()> {
    let wasm = dist.join("pkg/wirelab_frontend_bg.wasm");
    eprintln!(
        "xtask: WASM {} from rustc, {} after wasm-bindgen",
        kb(rustc_size),
        kb(file_size(&wasm)?),
    );
    if !with_suffix(&wasm, ".br").exists() {
        eprintln!(
            "xtask: page built in {}, without compressed copies",
            dist.display()
        );
        return Ok(());
    }
    let (gzipped, brotlied) = wire_sizes(&wasm)?;
    eprintln!(
        "xtask: WASM {} gzipped, {} with brotli",
        kb(gzipped),
        kb(brotlied)
    );
    let load = first_load(dist)?;
    eprintln!(
        "xtask: page built in {}; first load on the wire {} with brotli, {} with gzip only",
        dist.display(),
        kb(load.brotli),
        kb(load.gzip),
    );
    Ok(())
}

/// What a browser downloads for the first page, in bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstLoad {
    /// To a browser that accepts brotli (HTTPS and loopback origins).
    pub brotli: u64,
    /// To a browser that accepts gzip only.
    pub gzip: u64,
}

/// The first load of the page built in `dist`: `index.html` and the files
/// of [`FIRST_LOAD`], each as its smallest copy the browser accepts. Only
/// meaningful for a release build, which has the compressed copies.
pub fn first_load(dist: &Path) -> Result<FirstLoad> {
    let shell = file_size(&dist.join("index.html"))?;
    let mut load = FirstLoad {
        brotli: shell,
        gzip: shell,
    };
    for file in FIRST_LOAD {
        let (gzip, brotli) = wire_sizes(&dist.join(file))?;
        load.gzip += gzip;
        load.brotli += brotli;
    }
    Ok(load)
}

/// Whether `dist` holds a release build's compressed copies, so that
/// [`first_load`] counts what a browser really downloads.
pub fn has_compressed_copies(dist: &Path) -> bool {
    COMPRESSED
        .iter()
        .all(|file| with_suffix(&dist.join(file), ".br").exists())
}

/// The bytes a file costs on the wire to a browser that accepts gzip only,
/// and to one that also accepts brotli: its smallest copy in each case.
fn wire_sizes(file: &Path) -> Result<(u64, u64)> {
    let plain = file_size(file)?;
    let copy = |suffix: &str| file_size(&with_suffix(file, suffix)).unwrap_or(plain);
    let gzip = plain.min(copy(".gz"));
    Ok((gzip, gzip.min(copy(".br"))))
}

/// Bytes as kB (1000 bytes, as browsers' network panels count them).
fn kb(bytes: u64) -> String {
    format!("{:.1} kB", bytes as f64 / 1000.0)
}

fn file_size(file: &Path) -> Result<u64> {
    Ok(std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len())
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The version of `name` recorded in Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"") {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_string());
        }
    }
    None
}

/// The JS glue and the runtime must come from the same wasm-bindgen: checks
/// that Cargo.lock has `wasm-bindgen-cli-support` at exactly the version of
/// `wasm-bindgen`, and returns it.
fn check_bindgen_pin() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let runtime =
        locked_version(&lock, "wasm-bindgen").context("wasm-bindgen is not in Cargo.lock")?;
    let support = locked_version(&lock, "wasm-bindgen-cli-support")
        .context("wasm-bindgen-cli-support is not in Cargo.lock")?;
    if runtime != support {
        bail!(
            "Cargo.lock has wasm-bindgen {runtime} but wasm-bindgen-cli-support {support}: \
             pin both to the same version with `=` in the workspace Cargo.toml"
        );
    }
    Ok(runtime)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// Writes `<file>.gz` (zopfli) and `<file>.br` (brotli at its best
/// quality) next to `file`. Each takes seconds on the WASM, so they run on
/// two threads.
fn precompress(file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let (gzipped, brotlied) = std::thread::scope(|scope| {
        let gzipping = scope.spawn(|| gzip(&bytes));
        let brotlied = brotli(&bytes);
        (gzipping.join(), brotlied)
    });
    let gzipped = gzipped.map_err(|_| anyhow::anyhow!("gzip of {} panicked", file.display()))?;
    std::fs::write(with_suffix(file, ".gz"), gzipped?)?;
    std::fs::write(with_suffix(file, ".br"), brotlied?)?;
    Ok(())
}

/// Gzip as zopfli writes it: any gzip decoder reads it, and it is some
/// 4 % smaller than zlib's best, which matters to the browsers that get
/// gzip (Chromium sends `br` only to HTTPS and loopback origins).
fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    zopfli::compress(
        zopfli::Options::default(),
        zopfli::Format::Gzip,
        bytes,
        &mut out,
    )?;
    Ok(out)
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        // A 16 MiB window, the largest every browser decodes: the whole
        // WASM fits in it.
        lgwin: 24,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_copies_decode_to_the_original() {
        use std::io::Read;
        let original = b"GET / HTTP/1.1\r\nHost: gaia.cs.umass.edu\r\n\r\n".repeat(100);
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&original).unwrap()[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, original);
        let compressed = brotli(&original).unwrap();
        assert!(compressed.len() < original.len() / 10);
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&compressed[..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, original);
    }

    #[test]
    fn the_wire_size_is_the_smallest_copy() {
        let dir = std::env::temp_dir().join(format!("xtask-wire-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.js");
        std::fs::write(&file, [b'a'; 100]).unwrap();
        assert_eq!(wire_sizes(&file).unwrap(), (100, 100));
        std::fs::write(with_suffix(&file, ".gz"), [0; 40]).unwrap();
        assert_eq!(wire_sizes(&file).unwrap(), (40, 40));
        std::fs::write(with_suffix(&file, ".br"), [0; 30]).unwrap();
        assert_eq!(wire_sizes(&file).unwrap(), (40, 30));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_first_load_counts_the_shell_and_each_file_s_smallest_copy() {
        let dir = std::env::temp_dir().join(format!("xtask-first-load-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        std::fs::create_dir_all(dir.join("static")).unwrap();
        std::fs::write(dir.join("index.html"), [b'h'; 10]).unwrap();
        for file in FIRST_LOAD {
            std::fs::write(dir.join(file), [b'x'; 1000]).unwrap();
        }
        // A debug build: no copies, so the plain files count, and the
        // bench must not take that for what a browser downloads.
        assert!(!has_compressed_copies(&dir));
        let plain = 10 + 1000 * FIRST_LOAD.len() as u64;
        let load = first_load(&dir).unwrap();
        assert_eq!((load.brotli, load.gzip), (plain, plain));
        for file in COMPRESSED {
            std::fs::write(with_suffix(&dir.join(file), ".gz"), [0; 300]).unwrap();
            std::fs::write(with_suffix(&dir.join(file), ".br"), [0; 200]).unwrap();
        }
        assert!(has_compressed_copies(&dir));
        // The favicon has no copies and counts whole.
        let load = first_load(&dir).unwrap();
        assert_eq!(load.gzip, 10 + 3 * 300 + 1000);
        assert_eq!(load.brotli, 10 + 3 * 200 + 1000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn locked_versions_are_read_from_the_lock_file() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(locked_version(lock, "wasm"), None);
        // The real lock file keeps the pin.
        assert!(check_bindgen_pin().is_ok());
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
    }
}
