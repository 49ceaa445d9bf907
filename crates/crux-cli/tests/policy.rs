//! Repository policy checks: file size, module docs, and pinned workspace dependencies.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | ".venv" | "node_modules") {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_rust_file_exceeds_500_lines_and_each_has_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    assert!(
        files.len() > 20,
        "policy walked too few files: {}",
        files.len()
    );
    let mut problems = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let lines = text.lines().count();
        if lines > 500 {
            problems.push(format!("{}: {lines} lines (limit 500)", f.display()));
        }
        if !text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{}: does not start with a `//!` module doc line",
                f.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Why a `[workspace.dependencies]` entry is not acceptable, if it is not.
fn unpinned(line: &str) -> Option<String> {
    let (name, spec) = line.split_once('=')?;
    let (name, spec) = (name.trim(), spec.trim());
    if spec.contains("git") && spec.contains("git =") {
        return Some(format!("{name}: git sources are not allowed"));
    }
    if let Some(path) = spec.split("path = \"").nth(1) {
        let path = path.split('"').next().unwrap_or("");
        return (!path.starts_with("crates/"))
            .then(|| format!("{name}: path outside the workspace ({path})"));
    }
    let version = if spec.starts_with('"') {
        spec.trim_matches('"').to_owned()
    } else {
        spec.split("version = \"")
            .nth(1)?
            .split('"')
            .next()?
            .to_owned()
    };
    let exact = version.strip_prefix('=').is_some_and(|v| {
        let parts: Vec<&str> = v.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    (!exact || version.contains('*'))
        .then(|| format!("{name}: version \"{version}\" is not an exact pin (=X.Y.Z)"))
}

#[test]
fn workspace_dependencies_are_pinned() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let section: Vec<&str> = manifest
        .lines()
        .skip_while(|l| l.trim() != "[workspace.dependencies]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    assert!(section.len() > 10, "no [workspace.dependencies] found");
    let problems: Vec<String> = section.iter().filter_map(|l| unpinned(l)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn member_crates_take_versions_from_the_workspace() {
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let mut in_deps = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with('[') {
                in_deps = t.ends_with("dependencies]");
                continue;
            }
            if in_deps && !t.is_empty() && !t.starts_with('#') && !t.contains("workspace = true") {
                problems.push(format!(
                    "{}: `{t}` must use `.workspace = true`",
                    manifest.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_pin_check_catches_loose_versions() {
    assert!(unpinned(r#"serde = "1""#).is_some());
    assert!(unpinned(r#"serde = "^1.0.1""#).is_some());
    assert!(unpinned(r#"serde = "*""#).is_some());
    assert!(unpinned(r#"x = { git = "https://example.com/x" }"#).is_some());
    assert!(unpinned(r#"x = { path = "../elsewhere" }"#).is_some());
    assert!(unpinned(r#"serde = "=1.0.229""#).is_none());
    assert!(unpinned(r#"axum = { version = "=0.8.9", default-features = false }"#).is_none());
    assert!(unpinned(r#"crux-llm = { path = "crates/crux-llm" }"#).is_none());
}
