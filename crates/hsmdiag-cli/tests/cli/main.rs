//! The command line's tests, as one test binary. Every test runs from the
//! workspace's root, so paths read as in the repository: `samples/...`.

/// The workspace root (where `samples/` and `grammars/` are).
macro_rules! root {
    () => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
    };
}

#[ctor::ctor]
fn from_the_workspace_root() {
    let root = root!();
    std::env::set_current_dir(root).expect("the workspace root exists");
}

mod cases;
mod hardening;
mod redaction;
