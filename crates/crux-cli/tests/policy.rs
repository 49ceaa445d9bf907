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

/// A module's path inside its crate (`["dialect", "openai"]`) from its file under `src/`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The modules a file's non-test `use crate::…` / `use super::…` lines name (each resolved to the deepest module
/// that exists).
fn imports(
    text: &str,
    me: &[String],
    is_dir_module: bool,
    modules: &[Vec<String>],
) -> Vec<Vec<String>> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        let Some(path) = line.strip_prefix("use ") else {
            continue;
        };
        let segs: Vec<&str> = path
            .split("::")
            .map(|s| s.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_')))
            .take_while(|s| !s.is_empty())
            .collect();
        let mut base: Vec<String> = match segs.first() {
            Some(&"crate") => Vec::new(),
            Some(&"super") => {
                let mut b = me.to_vec();
                if !is_dir_module {
                    b.pop();
                }
                b.pop();
                b
            }
            _ => continue,
        };
        let mut rest = &segs[1..];
        while rest.first() == Some(&"super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().map(|s| (*s).to_owned()));
        if let Some(target) = (0..=base.len())
            .rev()
            .map(|n| base[..n].to_vec())
            .find(|p| modules.contains(p))
            && target != me
        {
            out.push(target);
        }
    }
    out
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut circles = Vec::new();
    for krate in std::fs::read_dir(root().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let modules: Vec<Vec<String>> = files.iter().map(|f| module_path(&src, f)).collect();
        let mut edges: std::collections::BTreeMap<Vec<String>, Vec<Vec<String>>> =
            std::collections::BTreeMap::new();
        for (file, me) in files.iter().zip(&modules) {
            let is_dir = matches!(
                file.file_name().and_then(|n| n.to_str()),
                Some("mod.rs" | "lib.rs" | "main.rs")
            );
            let text = std::fs::read_to_string(file).unwrap();
            edges.insert(me.clone(), imports(&text, me, is_dir, &modules));
        }
        // A circle exists when some module reaches itself again.
        for start in edges.keys() {
            let mut seen = std::collections::BTreeSet::new();
            let mut stack = edges[start].clone();
            while let Some(m) = stack.pop() {
                if &m == start {
                    circles.push(format!("{}: {}", src.display(), start.join("::")));
                    break;
                }
                if seen.insert(m.clone()) {
                    stack.extend(edges.get(&m).cloned().unwrap_or_default());
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules on an import circle:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_circle_check_sees_both_directions() {
    let modules = vec![vec!["a".to_owned()], vec!["b".to_owned()], vec![]];
    let a = imports("use crate::b::Thing;\n", &modules[0], false, &modules);
    let b = imports(
        "use super::a::{x, y};\n#[cfg(test)]\nuse crate::c;",
        &modules[1],
        false,
        &modules,
    );
    assert_eq!((a, b), (vec![modules[1].clone()], vec![modules[0].clone()]));
}
