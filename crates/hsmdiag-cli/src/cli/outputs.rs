//! Files hsmdiag writes: never over an input, never through a link, never half.
//!
//! Every command that writes a file names its inputs and its outputs to
//! [`guard`] before anything is read or written. An output is refused (exit 2,
//! nothing written) when it is an input by identity (device and inode: the same
//! file by another name, `./in.log`, an absolute path, a hard link, a file in an
//! input folder), when it is a symbolic link, or when two outputs are one file.
//! Standard output is checked too: `hsmdiag in.log >> in.log` would read its
//! own report back. Files are then written to a temporary name in the target
//! folder and renamed into place ([`write_file`]), so a reader never sees half
//! a report and a failed run leaves the old file as it was.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::EXIT_ERROR;

/// A file's identity: its device and inode.
type FileId = (u64, u64);

#[cfg(unix)]
fn id_of(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn id_of(_: &std::fs::Metadata) -> Option<FileId> {
    None
}

/// The files a command may read: every file a named path is or holds (a
/// folder's files at any depth, whatever the walk would leave out), and stdin
/// when it is a file.
struct Inputs {
    ids: BTreeMap<FileId, PathBuf>,
    /// Files met inside a named folder, not named themselves.
    in_folders: std::collections::BTreeSet<FileId>,
    /// Folders named as inputs, absolute.
    dirs: Vec<PathBuf>,
}

/// Folders deeper than this are not searched for inputs (a walk reads no deeper).
const MAX_DEPTH: usize = 64;

impl Inputs {
    fn of(paths: &[PathBuf]) -> Inputs {
        let mut ins = Inputs {
            ids: BTreeMap::new(),
            in_folders: std::collections::BTreeSet::new(),
            dirs: Vec::new(),
        };
        if paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-") {
            ins.add_stdin();
        }
        for p in paths.iter().filter(|p| p.as_os_str() != "-") {
            ins.add(p, p, 0);
        }
        ins
    }

    #[cfg(unix)]
    fn add_stdin(&mut self) {
        use std::os::fd::AsFd;
        if let Ok(f) = std::io::stdin().as_fd().try_clone_to_owned() {
            let f = std::fs::File::from(f);
            if let Ok(m) = f.metadata() {
                if m.is_file() {
                    if let Some(id) = id_of(&m) {
                        self.ids.insert(id, PathBuf::from("<stdin>"));
                    }
                }
            }
        }
    }

    #[cfg(not(unix))]
    fn add_stdin(&mut self) {}

    /// Adds `path` (reached from the named input `named`).
    fn add(&mut self, path: &Path, named: &Path, depth: usize) {
        // What is read is what a link points to.
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            if depth == 0 {
                self.dirs.push(absolute(path));
            }
            // Links to folders are not followed by walks.
            let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink());
            if depth >= MAX_DEPTH || (depth > 0 && is_link) {
                return;
            }
            if let Ok(entries) = std::fs::read_dir(path) {
                for e in entries.flatten() {
                    self.add(&e.path(), named, depth + 1);
                }
            }
        } else if let Some(id) = id_of(&meta) {
            let shown = if depth == 0 {
                named.to_owned()
            } else {
                self.in_folders.insert(id);
                path.to_owned()
            };
            if depth == 0 {
                self.in_folders.remove(&id);
            }
            self.ids.entry(id).or_insert(shown);
        }
    }
}

/// `path` made absolute without resolving links (the working folder joined).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Where an output will land, to compare outputs that do not exist yet: its
/// folder resolved, its own name kept.
fn landing(path: &Path) -> PathBuf {
    let abs = absolute(path);
    match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .unwrap_or_else(|_| dir.to_owned())
            .join(name),
        _ => abs,
    }
}

/// Why an output may not be written, for the error message.
fn refusal(what: &str, out: &Path, inputs: &Inputs) -> Option<String> {
    let meta = std::fs::symlink_metadata(out).ok()?;
    if meta.is_symlink() {
        return Some(format!(
            "{what} {} is a symbolic link; hsmdiag writes no file through a link: name the file itself",
            out.display()
        ));
    }
    let id = id_of(&meta)?;
    // An earlier report in an analysed folder is no evidence (walks skip it)
    // and may be replaced: `hsmdiag logs -o logs/report.md`, run again.
    if inputs.in_folders.contains(&id) && hsmdiag::own_output_file(out).is_some() {
        return None;
    }
    if let Some(input) = inputs.ids.get(&id) {
        let same = if input == out {
            "is an input".to_owned()
        } else {
            format!("is the input {} (the same file)", input.display())
        };
        return Some(format!(
            "{what} {} {same}; hsmdiag never writes over an input: choose another file",
            out.display()
        ));
    }
    None
}

/// Checks that no output is an input, a link, or another output, and that
/// stdout (when `stdout` is true and it is a file) is no input. Prints the
/// error and gives exit 2 on the first refusal.
pub(super) fn guard(inputs: &[PathBuf], outputs: &[(&str, &Path)], stdout: bool) -> Result<(), u8> {
    let ins = Inputs::of(inputs);
    for (what, out) in outputs {
        if let Some(why) = refusal(what, out, &ins) {
            eprintln!("error: {why}");
            return Err(EXIT_ERROR);
        }
    }
    for (i, (what_a, a)) in outputs.iter().enumerate() {
        for (what_b, b) in &outputs[i + 1..] {
            let same_id = match (std::fs::metadata(a), std::fs::metadata(b)) {
                (Ok(x), Ok(y)) => id_of(&x).is_some() && id_of(&x) == id_of(&y),
                _ => false,
            };
            if same_id || landing(a) == landing(b) {
                eprintln!(
                    "error: {what_a} and {what_b} are one file ({}); one would replace the other: give each its own",
                    a.display()
                );
                return Err(EXIT_ERROR);
            }
        }
    }
    if stdout {
        if let Some(input) = stdout_input(&ins) {
            eprintln!(
                "error: standard output is the input {}; hsmdiag would read its own report: redirect it to another file",
                input.display()
            );
            return Err(EXIT_ERROR);
        }
    }
    Ok(())
}

/// The input that stdout is, when it is a file that is one.
#[cfg(unix)]
fn stdout_input(ins: &Inputs) -> Option<PathBuf> {
    use std::os::fd::AsFd;
    let f = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned().ok()?);
    let meta = f.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    ins.ids.get(&id_of(&meta)?).cloned()
}

#[cfg(not(unix))]
fn stdout_input(_: &Inputs) -> Option<PathBuf> {
    None
}

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// As any new file (the umask decides), or as the file it replaces.
    Shared,
    /// The owner alone (0600): the private map of pseudonyms.
    Private,
}

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// renamed into place: never through a link (a link at `path` is refused, not
/// followed), never half written.
///
/// # Errors
/// When the folder cannot take the file, or `path` is a link.
pub(super) fn write_file(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    let existing = std::fs::symlink_metadata(path).ok();
    if existing.as_ref().is_some_and(std::fs::Metadata::is_symlink) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "is a symbolic link; hsmdiag writes no file through a link",
        ));
    }
    if existing.as_ref().is_some_and(std::fs::Metadata::is_dir) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a folder",
        ));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".hsmdiag-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    set_access(tmp.as_file(), existing.as_ref(), access)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn set_access(
    f: &std::fs::File,
    existing: Option<&std::fs::Metadata>,
    access: Access,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match (access, existing) {
        (Access::Private, _) => 0o600,
        (Access::Shared, Some(m)) => m.permissions().mode() & 0o7777,
        (Access::Shared, None) => 0o666 & !umask(),
    };
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_access(_: &std::fs::File, _: Option<&std::fs::Metadata>, _: Access) -> std::io::Result<()> {
    Ok(())
}

/// The process's umask (read once; it is set back at once).
#[cfg(unix)]
fn umask() -> u32 {
    static MASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        // SAFETY: umask only swaps the process's mask; it is restored at once.
        let m = unsafe { libc::umask(0o022) };
        unsafe { libc::umask(m) };
        // mode_t is u16 on some systems.
        #[allow(clippy::useless_conversion)]
        u32::from(m)
    })
}

/// Opens `path` to stream into (`--follow -o`): never through a link, and
/// emptied only once it is known to be no input.
///
/// # Errors
/// When it cannot be opened, is a link, or turns out to be an input.
pub(super) fn open_stream(path: &Path, inputs: &[PathBuf]) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW);
    }
    let f = opts.open(path)?;
    let ins = Inputs::of(inputs);
    if let Some(id) = f.metadata().ok().as_ref().and_then(id_of) {
        if let Some(input) = ins.ids.get(&id) {
            return Err(std::io::Error::other(format!(
                "is the input {}; hsmdiag never writes over an input",
                input.display()
            )));
        }
    }
    f.set_len(0)?;
    Ok(f)
}
