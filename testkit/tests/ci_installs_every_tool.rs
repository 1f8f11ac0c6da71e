//! `.ci/run` and the tests must not drift apart: every tool a test asks for
//! by package (`require_tool("dig", "dnsutils")`, or a skip message saying
//! `apt-get install <package>`) must be a package `.ci/run` installs, or CI
//! on a new machine fails where a developer's machine happened to pass.

use std::collections::BTreeSet;
use std::path::Path;
use wirelab_testkit::workspace_root;

/// The Debian packages in `.ci/run`'s `needed` table (`[command]=package`).
fn packages_ci_installs(script: &str) -> BTreeSet<String> {
    script
        .lines()
        .filter_map(|line| {
            let (command, package) = line.trim().strip_prefix('[')?.split_once("]=")?;
            (!command.is_empty()).then(|| package.trim().to_string())
        })
        .collect()
}

/// Every package named by `require_tool(_, "<package>")`, or by
/// `apt-get install <package>` in a file that skips tests with [`skip`].
///
/// [`skip`]: wirelab_testkit::skip
fn packages_tests_require(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("require_tool(") {
        rest = &rest[at + "require_tool(".len()..];
        let call = &rest[..rest.find(')').unwrap_or(rest.len())];
        let quoted: Vec<&str> = call.split('"').skip(1).step_by(2).collect();
        if let [_, package] = quoted.as_slice() {
            found.push(package.to_string());
        }
    }
    // Install hints count only where a test skips with them: a benchmark
    // naming the peers it can use is not a test's requirement.
    if !calls_skip(source) {
        return found;
    }
    let mut rest = source;
    while let Some(at) = rest.find("apt-get install ") {
        rest = &rest[at + "apt-get install ".len()..];
        let package: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
            .collect();
        if !package.is_empty() {
            found.push(package);
        }
    }
    found
}

/// Whether `source` calls the skip function, `skip(...)` standing alone:
/// an iterator's `.skip(n)` or a `launch_or_skip(` is not it.
fn calls_skip(source: &str) -> bool {
    source.match_indices("skip(").any(|(at, _)| {
        source[..at]
            .chars()
            .next_back()
            .is_none_or(|before| !(before.is_alphanumeric() || matches!(before, '_' | '.')))
    })
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" && name != "dist" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_required_tool_is_installed_by_ci() {
    let root = workspace_root();
    let script = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run exists");
    let installed = packages_ci_installs(&script);
    assert!(
        installed.contains("tshark") && installed.contains("chromium"),
        "the table in .ci/run was not read: {installed:?}"
    );
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut missing = Vec::new();
    let mut seen = 0;
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap_or_default();
        for package in packages_tests_require(&source) {
            seen += 1;
            if !installed.contains(&package) {
                missing.push(format!("{} needs {package}", file.display()));
            }
        }
    }
    assert!(
        seen >= 10,
        "only {seen} required tools found: is the scan broken?"
    );
    assert!(missing.is_empty(), ".ci/run does not install: {missing:#?}");
}

#[test]
fn the_scanner_reads_both_forms() {
    let source = r#"require_tool("tshark", "tshark"); skip("x (apt-get install chromium-driver)")"#;
    assert_eq!(
        packages_tests_require(source),
        vec!["tshark".to_string(), "chromium-driver".to_string()]
    );
    // A tool's install hint outside a skipping test is not a requirement.
    // (Split so that this file does not itself name the package.)
    let bench = concat!(r#"("wrk", "apt-get"#, r#" install wrk")"#);
    assert!(packages_tests_require(bench).is_empty());
    // Nor beside an iterator's skip.
    let iterator = concat!(
        r#"fields.skip(11); bail!("(apt-get"#,
        r#" install taskset)")"#
    );
    assert!(packages_tests_require(iterator).is_empty());
    let script = "declare -A needed=(\n  [dig]=dnsutils\n)\n";
    assert!(packages_ci_installs(script).contains("dnsutils"));
    assert!(!packages_ci_installs(script).contains("tshark"));
}
