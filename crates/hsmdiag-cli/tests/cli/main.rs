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

/// An empty directory of this test run's own, `hsmdiag-NAME-PID` in the
/// system's temporary directory.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hsmdiag-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

mod cases;
mod conventions;
mod escapes;
mod fleet;
mod hardening;
mod html;
mod leaks;
mod outputs;
mod own_output;
mod redaction;
