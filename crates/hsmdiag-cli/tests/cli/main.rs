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

/// An empty directory of this test's own, `hsmdiag-NAME-PID` in the system's
/// temporary directory, removed with everything in it when the test ends —
/// passed or failed (`HSMDIAG_TEST_KEEP` keeps it, to look at).
fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("hsmdiag-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    Scratch(dir)
}

/// A test's scratch directory; see [`scratch`].
struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("HSMDIAG_TEST_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
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

/// Says that a check could not run and why, in `cargo test`'s normal output
/// (written to stderr directly, past the harness's capture of `eprintln!`).
fn skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {what}");
}
