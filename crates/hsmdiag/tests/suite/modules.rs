//! The library crates' modules form no cycle: each module's paths into its
//! own crate (`crate::a::b`, `super::x`, `use` lists) are read from the
//! source, resolved to the module file that defines them (a name the crate
//! root re-exports to the module it comes from), and the graph is checked
//! for strongly connected components of more than one module. A module's
//! own tests (`#[cfg(test)] mod tests`) are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module by its path from the crate root (`parse::grammar`; the root is
/// the empty path).
type Module = Vec<String>;

struct Crate {
    /// Module → the text of its file, tests cut off, and whether the file is
    /// a folder's (`mod.rs`, `lib.rs`).
    files: BTreeMap<Module, (String, bool)>,
    /// (A module, a name it re-exports) → the module the name comes from.
    reexports: BTreeMap<(Module, String), Module>,
}

fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file: its test modules (`#[cfg(test)] mod x { ... }`,
/// wherever they stand) and its comment lines (doc links name paths that are
/// no import) left out.
fn without_tests(text: &str) -> String {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = String::with_capacity(code.len());
    let mut rest = code.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let t = after.trim_start();
        let is_mod = t.starts_with("mod ") || t.starts_with("pub mod ");
        match (is_mod, after.find('{')) {
            (true, Some(open)) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (i, c) in after[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            }
            _ => {
                out.push_str("#[cfg(test)]");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut files = BTreeMap::new();
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("readable source folder") {
                let p = entry.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("main.rs") {
                    let text = std::fs::read_to_string(&p).expect("readable source");
                    let dir = p.ends_with("mod.rs") || p.ends_with("lib.rs");
                    files.insert(module_of(src, &p), (without_tests(&text), dir));
                }
            }
        }
        let mut c = Crate {
            files,
            reexports: BTreeMap::new(),
        };
        // Re-exports resolve in the order modules sit (a re-export of a
        // re-export needs the first); two passes settle those chains.
        for _ in 0..2 {
            let mut found = Vec::new();
            for (m, (text, dir)) in &c.files {
                for (path, names) in use_items(text, "pub use ") {
                    let path = relative(m, *dir, &path);
                    for n in names {
                        let mut full = path.clone();
                        full.push(n.clone());
                        if let Some(t) = c.resolve(&full) {
                            found.push(((m.clone(), n), t));
                        }
                    }
                }
            }
            c.reexports.extend(found);
        }
        c
    }

    /// The module a path names, or that defines the item it names (through
    /// the re-exports of the module the path reaches).
    fn resolve(&self, path: &[String]) -> Option<Module> {
        for n in (0..=path.len()).rev() {
            let m: Module = path[..n].to_vec();
            if !self.files.contains_key(&m) {
                continue;
            }
            if let Some(next) = path.get(n) {
                if let Some(t) = self.reexports.get(&(m.clone(), next.clone())) {
                    return Some(t.clone());
                }
            }
            return Some(m);
        }
        None
    }

    /// Each module → the modules of its crate it names.
    fn graph(&self) -> BTreeMap<Module, BTreeSet<Module>> {
        let mut g = BTreeMap::new();
        for (m, (text, dir)) in &self.files {
            let mut to = BTreeSet::new();
            // A folder's module names its own children without a prefix
            // (`codes::prose(...)`, `use grammar::Grammar`).
            if *dir {
                for child in children(text) {
                    let needle = format!("{child}::");
                    let named = text.match_indices(&needle).any(|(at, _)| {
                        let before = text[..at].chars().next_back();
                        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                    });
                    let mut path = m.clone();
                    path.push(child);
                    if named && self.files.contains_key(&path) {
                        to.insert(path);
                    }
                }
            }
            for path in paths(m, text, *dir) {
                if let Some(t) = self.resolve(&path) {
                    // The root only declares and re-exports: an edge to it
                    // is an edge to what it re-exports, resolved above.
                    if &t != m && !t.is_empty() {
                        to.insert(t);
                    }
                }
            }
            g.insert(m.clone(), to);
        }
        g
    }
}

/// A `pub use` path as seen from the crate root: `crate::a` as it is,
/// `super::a` and a child's `a` from the module that names them.
fn relative(m: &Module, dir: bool, path: &[String]) -> Vec<String> {
    let mut base: Module = if dir {
        m.clone()
    } else {
        m[..m.len().saturating_sub(1)].to_vec()
    };
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => return rest[1..].to_vec(),
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => {}
    }
    base.extend(rest.iter().cloned());
    base
}

/// The child modules a folder's module declares (`mod x;`, `pub mod x;`).
fn children(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("pub(crate) ")
                .or_else(|| l.strip_prefix("pub "))
                .unwrap_or(l);
            let name = l.strip_prefix("mod ")?.strip_suffix(';')?;
            Some(name.trim().to_owned())
        })
        .collect()
}

/// The `use` items starting with `prefix` (`pub use `) in `text`: the path
/// before a brace list, and the last segment of each item in it (or of the
/// path itself).
fn use_items(text: &str, prefix: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for stmt in text.split(';') {
        let Some(at) = stmt.find(prefix) else {
            continue;
        };
        let body: String = stmt[at + prefix.len()..]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let (head, list) = match body.split_once("::{") {
            Some((h, l)) => (h.to_owned(), l.trim_end_matches('}').to_owned()),
            None => match body.rsplit_once("::") {
                Some((h, l)) => (h.to_owned(), l.to_owned()),
                None => continue,
            },
        };
        let path: Vec<String> = head.split("::").map(str::to_owned).collect();
        let names = list
            .split(',')
            .filter_map(|i| {
                let i = i.rsplit("::").next()?;
                let i = i.split(" as ").next()?;
                Some(
                    i.trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
                        .to_owned(),
                )
            })
            .filter(|n| !n.is_empty())
            .collect();
        out.push((path, names));
    }
    out
}

/// Every path into the crate that `text` (module `m`; `dir`: whether it is
/// a folder's `mod.rs`) names, as a module path from the root.
fn paths(m: &Module, text: &str, dir: bool) -> Vec<Vec<String>> {
    let parent: Module = if dir {
        m.clone()
    } else {
        m[..m.len().saturating_sub(1)].to_vec()
    };
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (kw, base) in [
        ("crate::", Vec::new()),
        ("super::", {
            let mut p = parent.clone();
            if dir {
                p.pop();
            }
            p
        }),
    ] {
        let mut from = 0;
        while let Some(at) = text[from..].find(kw) {
            let start = from + at;
            from = start + kw.len();
            // `super::` inside `crate::a::super::`? Not Rust; but skip a
            // match that is the tail of a longer identifier.
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let mut base = base.clone();
            let mut rest = &text[from..];
            // `super::super::`
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            expand(&base, rest, &mut out);
        }
    }
    out
}

/// Adds the paths a path's tail names: `a::b::c`, or `a::{b, c::d}`.
fn expand(base: &[String], rest: &str, out: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    let mut s = rest;
    if s.starts_with('{') {
        // `super::{a, b}`: the list right after the keyword.
        s = &s[1..];
        let mut depth = 0;
        let mut item_start = 0;
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth > 0 => depth -= 1,
                ',' | '}' if depth == 0 => {
                    let item = s[item_start..i].trim();
                    if !item.is_empty() {
                        expand(&path, item, out);
                    }
                    if c == '}' {
                        return;
                    }
                    item_start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    loop {
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        if end == 0 {
            break;
        }
        path.push(s[..end].to_owned());
        s = &s[end..];
        match s.strip_prefix("::") {
            Some(r) if r.starts_with('{') => {
                // A brace list: each item at its top level.
                let inner = &r[1..];
                let mut depth = 0;
                let mut item_start = 0;
                for (i, c) in inner.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            let item = inner[item_start..i].trim();
                            if !item.is_empty() {
                                expand(&path, item, out);
                            }
                            out.push(path.clone());
                            return;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            let item = inner[item_start..i].trim();
                            if !item.is_empty() {
                                expand(&path, item, out);
                            }
                            item_start = i + 1;
                        }
                        _ => {}
                    }
                }
                break;
            }
            Some(r) => s = r,
            None => break,
        }
    }
    if path.len() > base.len() {
        out.push(path);
    }
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct T<'a> {
        g: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        on: BTreeSet<&'a Module>,
        stack: Vec<&'a Module>,
        next: usize,
        out: Vec<Vec<Module>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a Module) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.get(v).into_iter().flatten() {
                if !self.g.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[w].min(self.low[v]);
                    self.low.insert(v, l);
                } else if self.on.contains(w) {
                    let l = self.index[w].min(self.low[v]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on: BTreeSet::new(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

fn describe(g: &BTreeMap<Module, BTreeSet<Module>>, comp: &[Module]) -> String {
    let name = |m: &Module| m.join("::");
    let mut s = comp.iter().map(name).collect::<Vec<_>>().join(", ");
    for m in comp {
        for t in &g[m] {
            if comp.contains(t) {
                s.push_str(&format!("\n    {} -> {}", name(m), name(t)));
            }
        }
    }
    s
}

#[test]
fn the_library_crates_have_no_module_cycle() {
    let root = PathBuf::from(root!());
    let mut found = Vec::new();
    // (The command's `cli` module still holds helpers its subcommands use.)
    for (krate, modules, imports) in [
        ("hsmdiag-parse", 10, 20),
        ("hsmdiag-lint", 5, 6),
        ("hsmdiag", 10, 20),
    ] {
        let c = Crate::read(&root.join("crates").join(krate).join("src"));
        assert!(
            c.files.len() > modules,
            "{krate}: only {} modules read",
            c.files.len()
        );
        let g = c.graph();
        let edges: usize = g.values().map(BTreeSet::len).sum();
        assert!(edges > imports, "{krate}: only {edges} imports read");
        for comp in cycles(&g) {
            found.push(format!("{krate}: {}", describe(&g, &comp)));
        }
    }
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_check_sees_a_cycle() {
    let mut g: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    let m = |s: &str| -> Module { s.split("::").map(str::to_owned).collect() };
    let mut paths_of = |module: &str, text: &str, dir: bool| {
        let own = m(module);
        let to = paths(&own, text, dir)
            .into_iter()
            .map(|p| p[..p.len().min(2)].to_vec())
            .filter(|p| p != &own)
            .collect();
        g.insert(own, to);
    };
    paths_of("parse::a", "use super::{b::X, c};", false);
    paths_of("parse::b", "fn f() { crate::parse::a::g() }", false);
    paths_of("parse::c", "use crate::event::Event;", false);
    let found = cycles(&g);
    assert_eq!(found, vec![vec![m("parse::a"), m("parse::b")]]);
}
