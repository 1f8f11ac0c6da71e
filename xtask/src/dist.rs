//! `cargo xtask dist`: builds the page into `dist/` and makes it small on
//! the wire.
//!
//! Every step is a Rust library, so a machine with only rustup and cargo
//! needs nothing else: rustc builds the page (profile `wasm-release`), the
//! `wasm-bindgen-cli-support` library generates the JS glue, and `zopfli`
//! and `brotli` write `.gz` and `.br` copies beside the big files, which the
//! relay sends to browsers that accept them. The page is one WASM module
//! per group of routes (`wirelab_frontend::bundle`, entries in
//! `frontend/bundles/`), all built by one cargo run. The sizes of each step
//! are printed for each module, ending with what a first load costs on the
//! wire.

use crate::{WASM_PROFILE, WASM_TARGET, cargo, ensure_wasm_target, root, run_checked, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The module a first visit loads: the start page's.
pub const FIRST_MODULE: &str = "home";

/// The files every page loads beside `index.html` and its module's two.
const SHARED_FILES: [&str; 2] = ["static/style.css", "static/favicon.svg"];

/// The small files worth a compressed copy, beside every module's two.
const COMPRESSED_STATIC: [&str; 1] = ["static/style.css"];

/// The page's WASM modules (`wirelab_frontend::bundle`), one per entry in
/// `frontend/bundles/`, in name order.
pub fn modules() -> Result<Vec<String>> {
    let dir = root().join("frontend/bundles");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if let Some(stem) = path.file_stem()
            && path.extension().is_some_and(|e| e == "rs")
        {
            names.push(stem.to_string_lossy().into_owned());
        }
    }
    names.sort();
    if !names.iter().any(|n| n == FIRST_MODULE) {
        bail!("frontend/bundles/ has no {FIRST_MODULE}.rs, the start page's module");
    }
    Ok(names)
}

/// A module's two files in `dist/`: the JS glue and the WASM.
fn module_files(name: &str) -> [String; 2] {
    [format!("pkg/{name}.js"), format!("pkg/{name}_bg.wasm")]
}

/// Builds the page into `dist/`: the shell, each module's JS glue and
/// WASM, and the static files, with compressed copies. Returns the dist
/// folder.
pub fn dist(debug: bool) -> Result<PathBuf> {
    let modules = modules()?;
    let built = build_wasm(debug)?;

    let dist = root().join("dist");
    let staging = root().join("dist.tmp");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(staging.join("pkg"))?;

    let started = Instant::now();
    let mut rustc_sizes = Vec::new();
    for name in &modules {
        let wasm = built.join(format!("{name}.wasm"));
        rustc_sizes.push(file_size(&wasm)?);
        generate_bindings(&wasm, name, &staging.join("pkg"), debug)?;
    }
    eprintln!(
        "xtask: bindings for {} modules in {:.1} s",
        modules.len(),
        started.elapsed().as_secs_f64()
    );

    let shell = std::fs::read_to_string(root().join("index.html")).context("reading index.html")?;
    // A version stamp in the asset URLs, so a browser never mixes an old
    // cached WASM with a new page.
    let mut hash = 0u64;
    for name in &modules {
        let wasm_bytes = std::fs::read(staging.join(&module_files(name)[1]))?;
        hash = hash.rotate_left(5) ^ fnv1a(&wasm_bytes);
    }
    let stamp = format!("{:08x}", hash as u32);
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
        let files: Vec<PathBuf> = compressed_files(&modules)
            .iter()
            .map(|file| staging.join(file))
            .collect();
        precompress_all(&files)?;
        eprintln!(
            "xtask: gzip and brotli copies in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    std::fs::rename(&staging, &dist)?;
    report_sizes(&dist, &modules, &rustc_sizes)?;
    Ok(dist)
}

/// Every file that gets `.gz` and `.br` copies.
fn compressed_files(modules: &[String]) -> Vec<String> {
    let mut files: Vec<String> = modules.iter().flat_map(|m| module_files(m)).collect();
    files.extend(COMPRESSED_STATIC.iter().map(|f| f.to_string()));
    files
}

/// Compiles every module to WebAssembly and returns the folder where rustc
/// wrote them (`<name>.wasm`). One cargo run builds them all: the shared
/// crates once, then one link-time-optimised link per module.
fn build_wasm(debug: bool) -> Result<PathBuf> {
    ensure_wasm_target()?;
    let profile = if debug { "dev" } else { WASM_PROFILE };
    run_checked(
        cargo().args([
            "build",
            "--package",
            "wirelab-frontend",
            "--examples",
            "--target",
            WASM_TARGET,
            "--profile",
            profile,
        ]),
        &format!("building the page's modules for {WASM_TARGET} ({profile})"),
    )?;
    let profile_dir = if debug { "debug" } else { WASM_PROFILE };
    Ok(target_dir()
        .join(WASM_TARGET)
        .join(profile_dir)
        .join("examples"))
}

/// Writes module `name`'s JS glue and bindgen'd WASM into `pkg`.
fn generate_bindings(wasm: &Path, name: &str, pkg: &Path, debug: bool) -> Result<()> {
    check_bindgen_pin()?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(name)
        .web(true)?
        .typescript(false)
        .debug(debug)
        // The function names (a third of the module) serve only debuggers
        // and profilers; a debug build keeps them for readable traces.
        .remove_name_section(!debug)
        .remove_producers_section(!debug)
        .generate(pkg)
        .with_context(|| format!("wasm-bindgen on {}", wasm.display()))?;
    Ok(())
}

/// Prints each module's size at each step and what loading each page
/// costs on the wire, ending with the first load (the start page's).
fn report_sizes(dist: &Path, modules: &[String], rustc_sizes: &[u64]) -> Result<()> {
    let compressed = has_compressed_copies(dist);
    for (name, rustc_size) in modules.iter().zip(rustc_sizes) {
        let wasm = dist.join(&module_files(name)[1]);
        let mut line = format!(
            "xtask: module {name}: WASM {} from rustc, {} after wasm-bindgen",
            kb(*rustc_size),
            kb(file_size(&wasm)?),
        );
        if compressed {
            let load = page_load(dist, name)?;
            line += &format!(
                "; its page's load on the wire {} with brotli, {} with gzip only",
                kb(load.brotli),
                kb(load.gzip)
            );
        }
        eprintln!("{line}");
    }
    if !compressed {
        eprintln!(
            "xtask: page built in {}, without compressed copies",
            dist.display()
        );
        return Ok(());
    }
    let load = first_load(dist)?;
    eprintln!(
        "xtask: page built in {}; first load (the start page) on the wire {} with brotli, {} with gzip only",
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

/// The first load of the page built in `dist`: the start page's
/// [`page_load`]. Only meaningful for a release build, which has the
/// compressed copies.
pub fn first_load(dist: &Path) -> Result<FirstLoad> {
    page_load(dist, FIRST_MODULE)
}

/// What a browser downloads to open a page of module `module` on a first
/// visit: `index.html`, the module's two files and the shared static files,
/// each as its smallest copy the browser accepts.
pub fn page_load(dist: &Path, module: &str) -> Result<FirstLoad> {
    let shell = file_size(&dist.join("index.html"))?;
    let mut load = FirstLoad {
        brotli: shell,
        gzip: shell,
    };
    let files = module_files(module);
    for file in files.iter().map(String::as_str).chain(SHARED_FILES) {
        let (gzip, brotli) = wire_sizes(&dist.join(file))?;
        load.gzip += gzip;
        load.brotli += brotli;
    }
    Ok(load)
}

/// Whether `dist` holds a release build's compressed copies, so that
/// [`first_load`] counts what a browser really downloads.
pub fn has_compressed_copies(dist: &Path) -> bool {
    modules().is_ok_and(|modules| {
        compressed_files(&modules)
            .iter()
            .all(|file| with_suffix(&dist.join(file), ".br").exists())
    })
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

/// Writes the compressed copies of `files`, on as many threads as the
/// machine has cores (each module's copies take seconds).
fn precompress_all(files: &[PathBuf]) -> Result<()> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(files.len()))
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(i) else {
                            return Ok(());
                        };
                        precompress(file)?;
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a compression thread panicked"))?
        })
    })
}

/// Writes `<file>.gz` (zopfli) and `<file>.br` (brotli at its best
/// quality) next to `file`, one after the other (the callers run several
/// files at once).
fn precompress(file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    std::fs::write(with_suffix(file, ".gz"), gzip(&bytes)?)?;
    std::fs::write(with_suffix(file, ".br"), brotli(&bytes)?)?;
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
        let modules = modules().unwrap();
        let mut files: Vec<String> = modules.iter().flat_map(|m| module_files(m)).collect();
        files.extend(SHARED_FILES.iter().map(|f| f.to_string()));
        for file in &files {
            std::fs::write(dir.join(file), [b'x'; 1000]).unwrap();
        }
        // A debug build: no copies, so the plain files count, and the
        // bench must not take that for what a browser downloads.
        assert!(!has_compressed_copies(&dir));
        let plain = 10 + 1000 * 4;
        let load = first_load(&dir).unwrap();
        assert_eq!((load.brotli, load.gzip), (plain, plain));
        for file in compressed_files(&modules) {
            std::fs::write(with_suffix(&dir.join(&file), ".gz"), [0; 300]).unwrap();
            std::fs::write(with_suffix(&dir.join(&file), ".br"), [0; 200]).unwrap();
        }
        assert!(has_compressed_copies(&dir));
        // The start page's module, the CSS, and the favicon, which has no
        // copies and counts whole; no other module's files.
        let load = first_load(&dir).unwrap();
        assert_eq!(load.gzip, 10 + 3 * 300 + 1000);
        assert_eq!(load.brotli, 10 + 3 * 200 + 1000);
        // A copy missing for one module is not a release build.
        std::fs::remove_file(with_suffix(&dir.join("pkg/mail_bg.wasm"), ".br")).unwrap();
        assert!(!has_compressed_copies(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_modules_are_the_page_s_bundles() {
        let modules = modules().unwrap();
        assert_eq!(modules.first().map(String::as_str), Some("bench"));
        for name in ["home", "http", "mail", "dns"] {
            assert!(modules.iter().any(|m| m == name), "{name}");
        }
        // Each one is an example target of the page's crate.
        let manifest = std::fs::read_to_string(root().join("frontend/Cargo.toml")).unwrap();
        for name in &modules {
            assert!(
                manifest.contains(&format!("name = \"{name}\"\npath = \"bundles/{name}.rs\"")),
                "{name}"
            );
        }
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
