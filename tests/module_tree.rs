//! Inside every crate of the workspace the modules import each other as a tree: no module
//! imports (with `use crate::…`, `super::…` or `self::…`) a module that imports it back,
//! directly or through others, and no module is mounted with `#[path]`. Test modules are left
//! out (a `tests` module using its parent is the usual Rust layout). No services needed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every crate's `src/` folder under `root`.
fn crate_sources(root: &Path) -> Vec<PathBuf> {
    let mut sources = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let name = folder.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if folder.join("Cargo.toml").exists() && folder.join("src").is_dir() {
            sources.push(folder.join("src"));
        }
        for entry in std::fs::read_dir(&folder).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() && path.file_name() != Some("src".as_ref()) {
                folders.push(path);
            }
        }
    }
    sources.sort();
    sources
}

/// The library modules of one `src/` folder: module path -> file (tests and binaries left out).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut modules = BTreeMap::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if name != "tests" && name != "bin" {
                    folders.push(path);
                }
                continue;
            }
            // A binary's `main.rs` is a crate of its own on top: nothing imports it.
            let skipped = name == "tests.rs" || name.ends_with("_tests.rs") || name == "main.rs";
            if !name.ends_with(".rs") || skipped {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src");
            let mut module: Module = relative
                .with_extension("")
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            modules.insert(module, path);
        }
    }
    modules
}

/// The paths of the `use` declarations of `text` that start with `crate`, `super` or `self`,
/// one per imported name (`use a::{b, c::d}` gives `a::b` and `a::c::d`), outside test modules.
fn use_paths(text: &str) -> Vec<Vec<String>> {
    let text = text
        .split("#[cfg(test)]\nmod tests {")
        .next()
        .unwrap_or(text);
    let mut paths = Vec::new();
    for statement in text.split(';') {
        let statement = statement.trim_start();
        let statement = statement
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ");
        let body = statement
            .trim_start()
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ");
        let Some(body) = body.strip_prefix("use ") else {
            continue;
        };
        let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        if ["crate::", "super::", "self::"]
            .iter()
            .any(|start| body.starts_with(start))
        {
            expand(&body, &mut paths);
        }
    }
    paths
}

/// `a::{b,c::{d,e}}` -> `a::b`, `a::c::d`, `a::c::e`.
fn expand(body: &str, out: &mut Vec<Vec<String>>) {
    let Some(open) = body.find('{') else {
        out.push(body.split("::").map(str::to_owned).collect());
        return;
    };
    let prefix = body[..open].trim_end_matches("::");
    let inner = &body[open + 1..body.rfind('}').unwrap_or(body.len())];
    let (mut depth, mut start) = (0, 0);
    let mut parts = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        expand(&format!("{prefix}::{part}"), out);
    }
}

/// The module of `modules` that `path`, used in module `from`, names (its longest module prefix).
fn target(from: &Module, path: &[String], modules: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let (mut at, mut rest): (Module, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (from.clone(), &path[1..]),
        Some("super") => (from[..from.len().saturating_sub(1)].to_vec(), &path[1..]),
        _ => return None,
    };
    while rest.first().map(String::as_str) == Some("super") {
        at.pop();
        rest = &rest[1..];
    }
    let mut best = modules.contains_key(&at).then(|| at.clone());
    for segment in rest {
        at.push(segment.clone());
        if modules.contains_key(&at) {
            best = Some(at.clone());
        }
    }
    best.filter(|module| module != from)
}

/// The import edges of one crate's modules.
fn imports(modules: &BTreeMap<Module, PathBuf>) -> BTreeMap<Module, BTreeSet<Module>> {
    modules
        .iter()
        .map(|(module, file)| {
            let text = std::fs::read_to_string(file).expect("readable source");
            let targets = use_paths(&text)
                .iter()
                .filter_map(|path| target(module, path, modules))
                .collect();
            (module.clone(), targets)
        })
        .collect()
}

/// The pairs (a, b) where a imports b and b reaches a back.
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<(Module, Module)> {
    let reaches = |from: &Module, to: &Module| {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![from.clone()]);
        while let Some(module) = todo.pop() {
            if &module == to {
                return true;
            }
            if seen.insert(module.clone()) {
                todo.extend(edges.get(&module).into_iter().flatten().cloned());
            }
        }
        false
    };
    let mut found = Vec::new();
    for (a, targets) in edges {
        for b in targets {
            if reaches(b, a) {
                found.push((a.clone(), b.clone()));
            }
        }
    }
    found
}

#[test]
fn every_crate_s_modules_form_a_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    let mut counted = 0;
    for src in crate_sources(root) {
        let modules = modules(&src);
        counted += modules.len();
        for file in modules.values() {
            let text = std::fs::read_to_string(file).expect("readable source");
            if text
                .lines()
                .any(|line| line.trim_start().starts_with("#[path"))
            {
                problems.push(format!("{}: a #[path] mount", file.display()));
            }
        }
        for (a, b) in cycles(&imports(&modules)) {
            problems.push(format!(
                "{}: {} imports {}, which imports it back",
                src.display(),
                a.join("::"),
                b.join("::")
            ));
        }
    }
    assert!(
        counted > 100,
        "only {counted} modules found: the scan is broken"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_child_importing_its_parent_is_a_cycle() {
    let module = |path: &str| -> Module { path.split("::").map(str::to_owned).collect() };
    let modules: BTreeMap<Module, PathBuf> = [module("driver"), module("driver::ticks")]
        .into_iter()
        .map(|m| (m, PathBuf::new()))
        .collect();
    let parent = use_paths("use self::ticks::source_of;\nuse crate::{Delivery, Stage};\n");
    let child = use_paths("use super::{Session, other::{A, B}};\n");
    assert_eq!(child[0], ["super", "Session"]);
    assert_eq!(child[2], ["super", "other", "B"]);
    let mut edges = BTreeMap::new();
    for (from, paths) in [(module("driver"), parent), (module("driver::ticks"), child)] {
        let targets = paths
            .iter()
            .filter_map(|p| target(&from, p, &modules))
            .collect();
        edges.insert(from, targets);
    }
    assert_eq!(
        cycles(&edges),
        vec![
            (module("driver"), module("driver::ticks")),
            (module("driver::ticks"), module("driver"))
        ]
    );
}
