//! Names the commit the binary was built from, for `hsmdiag --version`: the
//! work tree's `git` HEAD (with `-dirty` when it has changes), else the commit
//! cargo recorded in a packaged crate (`.cargo_vcs_info.json`), else
//! `HSMDIAG_COMMIT` from the environment, else "unknown commit".

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let vcs = Path::new(dir).join(".cargo_vcs_info.json");
    let commit = git(&["-C", dir, "rev-parse", "--short=12", "HEAD"])
        .map(|c| {
            let dirty =
                git(&["-C", dir, "status", "--porcelain", "--untracked-files=no"]).is_some();
            if dirty { format!("{c}-dirty") } else { c }
        })
        .or_else(|| {
            let text = std::fs::read_to_string(&vcs).ok()?;
            let at = text.find("\"sha1\"")?;
            let rest = &text[at + 6..];
            let start = rest.find('"')? + 1;
            Some(rest[start..].chars().take(12).collect())
        })
        .or_else(|| std::env::var("HSMDIAG_COMMIT").ok())
        .unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo:rustc-env=HSMDIAG_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=HSMDIAG_COMMIT");
    // A new commit or a changed index rebuilds the version string.
    if let Some(git_dir) = git(&["-C", dir, "rev-parse", "--absolute-git-dir"]) {
        for f in ["HEAD", "index"] {
            println!("cargo:rerun-if-changed={git_dir}/{f}");
        }
        if let Some(head) = git(&["-C", dir, "symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={git_dir}/{head}");
        }
    }
}
