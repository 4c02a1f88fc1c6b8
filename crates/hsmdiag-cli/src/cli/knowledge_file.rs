//! Reading a rule, grammar or configuration file: small, regular, UTF-8.

use std::path::Path;

/// The most a rule, grammar or configuration file may hold.
pub(super) const MAX_KNOWLEDGE_BYTES: u64 = 4 << 20;

/// Reads a rule, grammar or configuration file: a regular file of at most
/// [`MAX_KNOWLEDGE_BYTES`]. A device (`/dev/zero`), a FIFO or a socket is
/// refused at once, before it is opened (reading one would never end, or
/// block), and so is a larger file.
///
/// # Errors
/// The message to print, naming the file.
pub(super) fn read_small(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let shown = hsmdiag::parser::printable_line(&path.display().to_string()).into_owned();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown}: not a regular file (a folder, device, FIFO or socket); rule, grammar and configuration files are regular files"
        ));
    }
    let too_big = || {
        format!(
            "{shown}: larger than {} MiB; rule, grammar and configuration files are small text files",
            MAX_KNOWLEDGE_BYTES >> 20
        )
    };
    if meta.len() > MAX_KNOWLEDGE_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_KNOWLEDGE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_KNOWLEDGE_BYTES {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| format!("{shown}: not UTF-8 text ({e})"))
}
