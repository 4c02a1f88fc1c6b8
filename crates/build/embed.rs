// Shared by the build scripts of hsmdiag-parse and hsmdiag (each crate links
// it as its own `embed.rs`, so that a packaged crate carries it): writes into
// OUT_DIR a table of (file name, text) for every `*.toml` in a folder of the
// crate (`data/...`, links to the workspace's `grammars/`), sorted by name,
// each `include_str!`-ed so a change rebuilds.

use std::fs;
use std::path::Path;

fn embed(dir: &str, out: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files: Vec<_> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut code = String::from("&[\n");
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file names are UTF-8");
        code.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(out);
    fs::write(dest, code).expect("OUT_DIR is writable");
}
