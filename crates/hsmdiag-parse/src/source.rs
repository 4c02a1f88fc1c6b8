//! Inputs: paths, directories, stdin and compressed files (gzip, zstd, xz,
//! bzip2), read as a
//! stream of lines with their byte offsets.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

mod own;
mod tar;
use miette::Diagnostic;
pub use own::{OwnOutput, own_output, own_output_file};

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// Standard input.
    Stdin,
    /// A file on disk.
    File(PathBuf),
    /// A file inside a tar archive (compressed or not): its data starts
    /// `offset` bytes into the archive's decompressed stream and is `size`
    /// bytes long. It may be compressed itself (`messages.2.gz`).
    Member {
        /// The archive file.
        archive: PathBuf,
        /// Where the member's data starts in the decompressed archive.
        offset: u64,
        /// The member's size.
        size: u64,
        /// A compressed archive's decompressed bytes, written to a temporary
        /// file while its members were listed: every member is read from it
        /// by seeking, so the archive is decompressed once, not once per
        /// member. `None` for a plain tar (read from the archive itself).
        spill: Option<Spill>,
    },
    /// A file inside a zip archive: its stored (or deflated) data starts
    /// `offset` bytes into the archive file and is `size` bytes long. It may be
    /// compressed itself (`messages.2.gz`).
    ZipMember {
        /// The archive file.
        archive: PathBuf,
        /// Where the member's data starts in the archive file.
        offset: u64,
        /// The size of the member's data as stored.
        size: u64,
        /// Whether the data is deflated (else stored as it is).
        deflated: bool,
        /// The temporary file the archive is, when it was itself a member of
        /// another archive (kept as long as this input).
        hold: Option<Spill>,
    },
    /// An input that is not read: a binary file or archive member (no log),
    /// one of hsmdiag's own outputs ([`OwnOutput`]: a report, a bundle's
    /// files), a link out of a walked folder, a FIFO. Listed in the summary
    /// with the reason, never read.
    Skipped {
        /// Why it is not read.
        reason: String,
    },
}

/// A temporary file holding an archive's decompressed bytes; removed when
/// the last input that reads from it is dropped.
#[derive(Clone)]
pub struct Spill(std::sync::Arc<tempfile::TempPath>);

impl Spill {
    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spill({})", self.0.display())
    }
}

impl PartialEq for Spill {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Spill {}

/// How much a compressed input may expand: at most `ratio` times its
/// compressed size (never less than 64 MiB) and at most `max_bytes` in all.
/// Past it, reading stops with an error that says so (a decompression bomb: a
/// zip whose entries overlap one deflate stream, a gzip of gigabytes of
/// newlines). Set once for the process ([`set_budget`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Budget {
    /// Decompressed bytes per compressed byte.
    pub ratio: u64,
    /// Decompressed bytes of one input in all.
    pub max_bytes: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            ratio: 200,
            max_bytes: 16 << 30,
        }
    }
}

static BUDGET_RATIO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(200);
static BUDGET_MAX: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(16 << 30);
/// The least any compressed input may expand to, whatever its ratio.
const BUDGET_FLOOR: u64 = 64 << 20;

/// Sets the decompression budget of every input read from now on.
pub fn set_budget(b: Budget) {
    BUDGET_RATIO.store(b.ratio.max(1), std::sync::atomic::Ordering::Relaxed);
    BUDGET_MAX.store(b.max_bytes.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// The decompression budget in force.
pub fn budget() -> Budget {
    Budget {
        ratio: BUDGET_RATIO.load(std::sync::atomic::Ordering::Relaxed),
        max_bytes: BUDGET_MAX.load(std::sync::atomic::Ordering::Relaxed),
    }
}

/// Counts the compressed bytes a decoder takes.
struct Counted<R> {
    inner: R,
    seen: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// A decoder's output, stopped with an error once it exceeds the budget.
struct Budgeted<R> {
    inner: R,
    compressed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    out: u64,
    budget: Budget,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let compressed = self.compressed.load(std::sync::atomic::Ordering::Relaxed);
        let allowed = compressed
            .saturating_mul(self.budget.ratio)
            .max(BUDGET_FLOOR)
            .min(self.budget.max_bytes);
        if self.out > allowed {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompressed beyond the budget: over {} MiB from {} KiB (at most {}:1 and {} MiB; --max-ratio and --max-decompressed raise it)",
                    allowed >> 20,
                    compressed >> 10,
                    self.budget.ratio,
                    self.budget.max_bytes >> 20
                ),
            ));
        }
        Ok(n)
    }
}

/// Reads exactly `size` bytes: fewer is an error (a member cut off by a
/// truncated archive), not a quiet end.
struct Exact<R> {
    inner: io::Take<R>,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.inner.limit();
        let n = self.inner.read(buf)?;
        if n == 0 && want > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the archive ends {want} bytes before this member does (cut off)"),
            ));
        }
        Ok(n)
    }
}

/// Copies what is read to a file (an archive's decompressed bytes, spilled
/// while its members are listed); stops copying, not reading, if the file
/// cannot take more.
struct Tee<R> {
    inner: R,
    to: Option<io::BufWriter<File>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(w) = &mut self.to {
            if io::Write::write_all(w, &buf[..n]).is_err() {
                self.to = None;
            }
        }
        Ok(n)
    }
}

/// One input of an analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// How it is named in evidence and the summary.
    pub name: String,
    /// Where its bytes come from.
    pub kind: InputKind,
}

impl Input {
    /// Standard input, named `<stdin>`.
    pub fn stdin() -> Self {
        Input {
            name: "<stdin>".into(),
            kind: InputKind::Stdin,
        }
    }

    /// A file, named by its path as given.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Input {
            name: crate::printable_line(&path.display().to_string()).into_owned(),
            kind: InputKind::File(path),
        }
    }

    /// The file's modification year, which dates year-less syslog when nothing
    /// else does.
    pub fn modified_year(&self) -> Option<i32> {
        use chrono::Datelike;
        let p = match &self.kind {
            InputKind::File(p)
            | InputKind::Member { archive: p, .. }
            | InputKind::ZipMember { archive: p, .. } => p,
            _ => return None,
        };
        let t = std::fs::metadata(p).ok()?.modified().ok()?;
        Some(chrono::DateTime::<chrono::Utc>::from(t).year())
    }

    /// Opens the input for reading, decompressing gzip, zstd, xz or bzip2 (by
    /// the content's magic bytes, whatever the name).
    ///
    /// # Errors
    /// [`InputError::Open`] when the file cannot be opened.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>, InputError> {
        let raw: Box<dyn Read + Send> = match &self.kind {
            InputKind::Stdin => Box::new(Fused {
                inner: io::stdin(),
                done: false,
            }),
            InputKind::File(p) => {
                Box::new(File::open(p).map_err(|e| InputError::open(&self.name, e))?)
            }
            InputKind::Member {
                archive,
                offset,
                size,
                spill,
            } => {
                use std::io::Seek;
                let open = |p: &Path| -> io::Result<Box<dyn Read + Send>> {
                    let mut f = File::open(p)?;
                    f.seek(io::SeekFrom::Start(*offset))?;
                    Ok(Box::new(Exact {
                        inner: f.take(*size),
                    }))
                };
                match spill {
                    Some(s) => open(s.path()),
                    None if is_compressed(archive) => {
                        // No spill (the disk could not take it): read through.
                        open_decompressed(archive).and_then(|mut stream| {
                            io::copy(&mut (&mut stream).take(*offset), &mut io::sink())?;
                            Ok(Box::new(Exact {
                                inner: stream.take(*size),
                            }) as Box<dyn Read + Send>)
                        })
                    }
                    None => open(archive),
                }
                .map_err(|e| InputError::open(&self.name, e))?
            }
            InputKind::ZipMember {
                archive,
                offset,
                size,
                deflated,
                ..
            } => {
                use std::io::Seek;
                let mut f = File::open(archive).map_err(|e| InputError::open(&self.name, e))?;
                f.seek(io::SeekFrom::Start(*offset))
                    .map_err(|e| InputError::open(&self.name, e))?;
                let data = Exact {
                    inner: f.take(*size),
                };
                if *deflated {
                    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
                    Box::new(Budgeted {
                        inner: flate2::read::DeflateDecoder::new(Counted {
                            inner: data,
                            seen: seen.clone(),
                        }),
                        compressed: seen,
                        out: 0,
                        budget: budget(),
                    })
                } else {
                    Box::new(data)
                }
            }
            InputKind::Skipped { .. } => Box::new(io::empty()),
        };
        decode_stream(raw).map_err(|e| InputError::open(&self.name, e))
    }

    /// Whether this input is not read ([`InputKind::Skipped`]).
    pub fn is_skipped(&self) -> bool {
        matches!(self.kind, InputKind::Skipped { .. })
    }
}

impl Input {
    /// Opens the input to follow it as it grows, like `tail -f`: at the end of
    /// the file, reading waits (polling every `poll`) for more instead of
    /// ending, until `stop` is set. A file cut shorter than what was read
    /// (truncated in place) is read again from its start; a file replaced by a
    /// new one at the same path (rotated) is reopened. Standard input is read
    /// to its end as usual.
    ///
    /// # Errors
    /// [`InputError::Open`] when the file cannot be opened or is compressed.
    pub fn follow(
        &self,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
        poll: std::time::Duration,
    ) -> Result<Box<dyn BufRead + Send>, InputError> {
        let InputKind::File(path) = &self.kind else {
            return self.open();
        };
        let mut file = File::open(path).map_err(|e| InputError::open(&self.name, e))?;
        let mut head = [0u8; 6];
        let n = read_head(&mut file, &mut head).map_err(|e| InputError::open(&self.name, e))?;
        if Compression::sniff(&head[..n]) != Compression::None {
            return Err(InputError::Open {
                path: self.name.clone(),
                reason: "it is compressed; --follow reads a growing plain-text log".into(),
            });
        }
        io::Seek::rewind(&mut file).map_err(|e| InputError::open(&self.name, e))?;
        let follower = Follower {
            id: file_id(&file),
            file,
            path: path.clone(),
            pos: 0,
            witness: Vec::new(),
            stop,
            poll,
        };
        Ok(Box::new(BufReader::with_capacity(64 * 1024, follower)))
    }
}

/// Reads up to `buf.len()` bytes from the start of a file (fewer at its end).
fn read_head(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// What tells one file from another at the same path (device and inode).
#[cfg(unix)]
fn file_id(f: &File) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    f.metadata().ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &File) -> Option<(u64, u64)> {
    None
}

/// A file read like `tail -f`.
struct Follower {
    file: File,
    path: PathBuf,
    id: Option<(u64, u64)>,
    /// Bytes read from the current file.
    pos: u64,
    /// The last bytes read (up to [`WITNESS`]): still there at the same
    /// place when the file only grew, gone when it was truncated and written
    /// again past where it was.
    witness: Vec<u8>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    poll: std::time::Duration,
}

/// How many of the last bytes read tell a grown file from a rewritten one.
const WITNESS: usize = 64;

impl Follower {
    /// Remembers the last bytes read.
    fn saw(&mut self, bytes: &[u8]) {
        self.witness.extend_from_slice(bytes);
        if self.witness.len() > WITNESS {
            self.witness.drain(..self.witness.len() - WITNESS);
        }
    }

    /// Whether the file was truncated since it was read: shorter than what
    /// was read, or (copytruncate, then written past the old end between two
    /// polls) no longer holding the last bytes read where they were.
    fn rewritten(&self, len: u64) -> bool {
        if len < self.pos {
            return true;
        }
        let k = self.witness.len() as u64;
        if k == 0 || self.pos < k {
            return false;
        }
        let mut now = vec![0u8; self.witness.len()];
        let read = File::open(&self.path).and_then(|mut f| {
            io::Seek::seek(&mut f, io::SeekFrom::Start(self.pos - k))?;
            f.read_exact(&mut now)
        });
        read.is_ok() && now != self.witness
    }
}

impl Read for Follower {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.pos += n as u64;
                self.saw(&buf[..n]);
                return Ok(n);
            }
            if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(0);
            }
            std::thread::sleep(self.poll);
            let Ok(meta) = std::fs::metadata(&self.path) else {
                // Gone for now (rotation in progress): keep waiting.
                continue;
            };
            let replaced = match File::open(&self.path) {
                Ok(f) if file_id(&f) != self.id => Some(f),
                _ => None,
            };
            if let Some(f) = replaced {
                // Renamed and created again: what was written to the old file
                // since the last read is read first, then the new one.
                let n = self.file.read(buf)?;
                if n > 0 {
                    self.pos += n as u64;
                    self.saw(&buf[..n]);
                    return Ok(n);
                }
                self.id = file_id(&f);
                self.file = f;
                self.pos = 0;
                self.witness.clear();
            } else if self.rewritten(meta.len()) {
                io::Seek::rewind(&mut self.file)?;
                self.pos = 0;
                self.witness.clear();
            }
        }
    }
}

/// Buffers a raw stream, decompresses it (by its magic bytes) and decodes
/// UTF-16 text. Fails only when the start of the stream cannot be read or a
/// compressed stream's header is not valid; a stream that fails later fails
/// on read.
#[doc(hidden)]
pub fn decode_stream(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buf = BufReader::with_capacity(64 * 1024, raw);
    let magic = buf.fill_buf()?;
    let stream = decompress(Compression::sniff(magic), buf)?;
    // A stream that fails at its first block (a truncated or corrupt
    // compressed file) is a read error at line 0, not an open error.
    Ok(decode_text(stream).unwrap_or_else(|e| Box::new(Failed(Some(e)))))
}

/// A reader that stays at its end once it has reached it: a terminal gives
/// one end of input per Ctrl-D, and the format sniffing must not use it up
/// (the reading after it would wait for a second one).
struct Fused<R> {
    inner: R,
    done: bool,
}

impl<R: Read> Read for Fused<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.done = n == 0;
        Ok(n)
    }
}

/// A reader whose first read fails with the error it holds.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

impl BufRead for Failed {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.take().map_or(Ok(&[]), Err)
    }

    fn consume(&mut self, _: usize) {}
}

/// A compression format, recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (`1f 8b`), concatenated members included.
    Gzip,
    /// Zstandard (`28 b5 2f fd`).
    Zstd,
    /// xz (`fd 37 7a 58 5a 00`), concatenated streams included.
    Xz,
    /// bzip2 (`BZh` and a block size digit), concatenated streams included.
    Bzip2,
}

impl Compression {
    /// The format the first bytes of a stream announce.
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }
}

/// Wraps a stream in the decoder its format needs.
fn decompress(
    format: Compression,
    raw: BufReader<Box<dyn Read + Send>>,
) -> io::Result<Box<dyn BufRead + Send>> {
    if format == Compression::None {
        return Ok(Box::new(raw));
    }
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let raw = BufReader::with_capacity(
        64 * 1024,
        Box::new(Counted {
            inner: raw,
            seen: seen.clone(),
        }) as Box<dyn Read + Send>,
    );
    let budget = budget();
    let wrap = |r: Box<dyn Read + Send>| -> Box<dyn BufRead + Send> {
        Box::new(BufReader::with_capacity(
            64 * 1024,
            Budgeted {
                inner: r,
                compressed: seen.clone(),
                out: 0,
                budget,
            },
        ))
    };
    Ok(match format {
        Compression::None => Box::new(raw),
        Compression::Gzip => wrap(Box::new(MultiGzDecoder::new(raw))),
        Compression::Zstd => wrap(Box::new(
            zstd::stream::read::Decoder::with_buffer(raw)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?,
        )),
        Compression::Xz => wrap(Box::new(liblzma::read::XzDecoder::new_multi_decoder(raw))),
        Compression::Bzip2 => wrap(Box::new(bzip2::read::MultiBzDecoder::new(raw))),
    })
}

/// Text in UTF-16 with a byte-order mark (what PowerShell's `>` and `Out-File`
/// write on Windows) is decoded to UTF-8; a UTF-8 byte-order mark is dropped.
/// Anything else is passed through (invalid UTF-8 is decoded lossily per line).
fn decode_text(mut r: Box<dyn BufRead + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let head = r.fill_buf()?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        r.consume(3);
        return Ok(r);
    }
    // With a byte-order mark the decoder sniffs the encoding and drops the
    // mark; without one, the text's zero bytes told which half is the high.
    let encoding = if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        None
    } else if let Some(little) = utf16_without_bom(head) {
        Some(if little {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        })
    } else {
        return Ok(r);
    };
    let decoder = encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .strip_bom(true)
        .build(r);
    Ok(Box::new(BufReader::with_capacity(64 * 1024, decoder)))
}

/// An input that could not be read.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum InputError {
    /// The path does not exist, is not readable, or is not a file or directory.
    #[error("{path}: {reason}")]
    #[diagnostic(code(hsmdiag::input), help("check the path and its permissions"))]
    Open {
        /// The path as given.
        path: String,
        /// Why.
        reason: String,
    },
    /// Reading failed part-way (a truncated gzip file, an I/O error).
    #[error("{path}: read failed after line {line}: {reason}")]
    #[diagnostic(
        code(hsmdiag::input::read),
        help("the lines before this point were analysed")
    )]
    Read {
        /// The path as given.
        path: String,
        /// The last line read.
        line: u32,
        /// Why.
        reason: String,
    },
}

impl InputError {
    /// Reading `path` failed after line `line`.
    pub fn read(path: &str, line: u32, e: &io::Error) -> Self {
        InputError::Read {
            path: crate::printable_line(path).into_owned(),
            line,
            reason: e.to_string(),
        }
    }

    fn open(path: &str, e: io::Error) -> Self {
        let reason = match e.kind() {
            io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        InputError::Open {
            path: crate::printable_line(path).into_owned(),
            reason,
        }
    }
}

/// A file's bytes, decompressed as its magic bytes say.
fn open_decompressed(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let f: Box<dyn Read + Send> = Box::new(File::open(path)?);
    let mut buf = BufReader::with_capacity(64 * 1024, f);
    let magic = buf.fill_buf()?;
    decompress(Compression::sniff(magic), buf)
}

/// The members of a tar archive (plain, gzip, zstd, xz or bzip2), each as its
/// own input named `archive!member`, in archive order; `None` when the file is
/// no tar archive. A member that is not text is listed as skipped. An archive
/// cut off part-way gives the members before the cut.
fn archive_members(path: &Path, name: &str) -> Option<Vec<Input>> {
    archive_members_at(path, name, None, 0)
}

/// Archives inside archives are read to this depth (`export.tgz!logs.zip!a.log`
/// is two); deeper ones are listed as skipped.
const MAX_NESTING: u32 = 3;

/// Whether a member's first bytes are an archive's: a zip, or a tar (plain
/// or compressed).
fn archive_head(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
        || decompressed_head(head, 512).get(257..262) == Some(b"ustar".as_slice())
}

/// The members of an archive that is a member of another: its bytes copied
/// to a temporary file (within the decompression budget), then listed as
/// any archive, one level deeper.
fn nested_members(mut bytes: impl Read, size: u64, name: &str, depth: u32) -> Vec<Input> {
    let skipped = |reason: String| {
        vec![Input {
            name: name.to_owned(),
            kind: InputKind::Skipped { reason },
        }]
    };
    if depth >= MAX_NESTING {
        return skipped(format!(
            "an archive nested {MAX_NESTING} deep inside others, not read"
        ));
    }
    if size > budget().max_bytes {
        return skipped("an archive inside the archive, larger than the budget".into());
    }
    let copied = tempfile::Builder::new()
        .prefix("hsmdiag-nested-")
        .tempfile()
        .and_then(|t| {
            let (mut file, tmp) = t.into_parts();
            io::copy(&mut (&mut bytes).take(size), &mut file)?;
            Ok(tmp)
        });
    let tmp = match copied {
        Ok(t) => Spill(std::sync::Arc::new(t)),
        Err(e) => return skipped(format!("an archive inside the archive, not copied ({e})")),
    };
    archive_members_at(tmp.path(), name, Some(&tmp), depth + 1)
        .or_else(|| zip_members_at(tmp.path(), name, Some(&tmp), depth + 1))
        .unwrap_or_else(|| skipped("an archive inside the archive that cannot be read".into()))
}

/// [`archive_members`] of an archive at `path`, which is the temporary file
/// `held` when it was itself a member, `depth` archives deep.
fn archive_members_at(
    path: &Path,
    name: &str,
    held: Option<&Spill>,
    depth: u32,
) -> Option<Vec<Input>> {
    let mut stream = open_decompressed(path).ok()?;
    let head = stream.fill_buf().ok()?;
    if head.get(257..262) != Some(b"ustar".as_slice()) {
        return None;
    }
    // A compressed archive is decompressed once, here: its bytes go to a
    // temporary file its members are read from.
    let spill = if is_compressed(path) {
        tempfile::Builder::new()
            .prefix("hsmdiag-archive-")
            .tempfile()
            .ok()
            .map(|t| {
                let (file, tmp) = t.into_parts();
                (io::BufWriter::with_capacity(1 << 20, file), tmp)
            })
    } else {
        None
    };
    let (writer, tmp) = match spill {
        Some((w, t)) => (Some(w), Some(t)),
        None => (None, None),
    };
    let mut tee = Tee {
        inner: stream,
        to: writer,
    };
    let mut listed = Vec::new();
    let mut cut = None;
    for entry in tar::Entries::new(&mut tee) {
        match entry {
            Ok(e) => listed.push(e),
            Err(e) => {
                cut = Some(e);
                break;
            }
        }
    }
    let spill = match (tee.to.take().map(|mut w| io::Write::flush(&mut w)), tmp) {
        (Some(Ok(())), Some(t)) => Some(Spill(std::sync::Arc::new(t))),
        // A plain tar that is itself a temporary file is read from it.
        _ => held.cloned(),
    };
    let mut out = Vec::new();
    for entry in listed {
        let member = crate::printable_line(&format!("{name}!{}", entry.path)).into_owned();
        let kind = if entry.is_link {
            InputKind::Skipped {
                reason: "a link inside the archive (symbolic or hard), not read".into(),
            }
        } else if !entry.is_file {
            continue;
        } else if archive_head(&entry.head) {
            let from = spill.as_ref().map_or(path, Spill::path);
            let bytes = File::open(from).and_then(|mut f| {
                io::Seek::seek(&mut f, io::SeekFrom::Start(entry.offset))?;
                Ok(f)
            });
            match bytes {
                Ok(f) => out.extend(nested_members(f, entry.size, &member, depth)),
                Err(e) => out.push(Input {
                    name: member,
                    kind: InputKind::Skipped {
                        reason: format!("an archive inside the archive, not read ({e})"),
                    },
                }),
            }
            continue;
        } else if let Some(reason) = not_read(&entry.head) {
            InputKind::Skipped { reason }
        } else {
            InputKind::Member {
                archive: path.to_path_buf(),
                offset: entry.offset,
                size: entry.size,
                spill: spill.clone(),
            }
        };
        out.push(Input { name: member, kind });
    }
    if let Some(e) = cut {
        // The rest of a cut-off or corrupt archive is not read: said, not dropped.
        out.push(Input {
            name: crate::printable_line(&format!("{name}!…")).into_owned(),
            kind: InputKind::Skipped {
                reason: format!("the archive breaks off here ({e}): what follows is not read"),
            },
        });
    }
    Some(out)
}

/// Whether a file starts with a compression format's magic bytes.
fn is_compressed(path: &Path) -> bool {
    let mut head = [0u8; 6];
    File::open(path)
        .and_then(|mut f| read_head(&mut f, &mut head))
        .is_ok_and(|n| Compression::sniff(&head[..n]) != Compression::None)
}

/// The members of a zip archive (a log export downloaded from a browser or
/// zipped on Windows), each as its own input named `archive!member`, in the
/// archive's order; `None` when the file is no zip archive. Members stored or
/// deflated are read; others (another method, encrypted) and those that are
/// not text are listed as skipped.
fn zip_members(path: &Path, name: &str) -> Option<Vec<Input>> {
    zip_members_at(path, name, None, 0)
}

/// [`zip_members`] of a zip at `path`, which is the temporary file `held`
/// when it was itself a member, `depth` archives deep.
fn zip_members_at(path: &Path, name: &str, held: Option<&Spill>, depth: u32) -> Option<Vec<Input>> {
    let mut f = File::open(path).ok()?;
    let mut magic = [0u8; 4];
    f.read_exact(&mut magic).ok()?;
    if magic != *b"PK\x03\x04" {
        return None;
    }
    let mut archive = zip::ZipArchive::new(File::open(path).ok()?).ok()?;
    let mut out = Vec::new();
    // The byte ranges of the members' data: no real archive has two members
    // share bytes; a bomb names thousands that point at one deflate stream.
    let mut taken: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let Ok(mut entry) = archive.by_index(i) else {
            continue;
        };
        if !entry.is_file() {
            continue;
        }
        let member = entry.name().to_owned();
        let shown = crate::printable_line(&format!("{name}!{member}")).into_owned();
        let method = entry.compression();
        let readable = matches!(
            method,
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ) && !entry.encrypted();
        let head = if readable {
            first_bytes(&mut entry)
        } else {
            Vec::new()
        };
        let (offset, size, declared) = (
            entry.data_start().unwrap_or_default(),
            entry.compressed_size(),
            entry.size(),
        );
        drop(entry);
        let end = offset.saturating_add(size.max(1));
        let overlaps = taken
            .range(..end)
            .next_back()
            .is_some_and(|(_, &e)| e > offset);
        if overlaps {
            out.push(Input {
                name: shown,
                kind: InputKind::Skipped {
                    reason: "its data overlaps another member's (a zip bomb), not read".into(),
                },
            });
            continue;
        }
        taken.insert(offset, end);
        let kind = if !readable {
            InputKind::Skipped {
                reason: format!("zip member compressed with {method} or encrypted, not read"),
            }
        } else if archive_head(&head) {
            if let Ok(inner) = archive.by_index(i) {
                out.extend(nested_members(inner, declared, &shown, depth));
            }
            continue;
        } else if let Some(reason) = not_read(&head) {
            InputKind::Skipped { reason }
        } else {
            InputKind::ZipMember {
                archive: path.to_path_buf(),
                offset,
                size,
                deflated: method == zip::CompressionMethod::Deflated,
                hold: held.cloned(),
            }
        };
        out.push(Input { name: shown, kind });
    }
    Some(out)
}

/// Up to the first 8 KiB of an archive member, to tell text from binary.
fn first_bytes(r: &mut impl Read) -> Vec<u8> {
    let mut head = vec![0u8; 8192];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    head.truncate(n);
    head
}

/// Why a file or archive member is not read, from its first bytes: it is
/// binary (no log), or one of hsmdiag's own outputs (a report, a timeline, a
/// bundle's files), which quote rule text and evidence no log holds. `None`
/// for what is read.
fn not_read(head: &[u8]) -> Option<String> {
    if looks_binary(head) {
        Some("binary, not a log".into())
    } else {
        own_output(head).map(OwnOutput::reason)
    }
}

/// Up to `limit` bytes of the start of a stream, decompressed when the first
/// bytes say it is compressed (a partial stream decodes as far as it goes).
fn decompressed_head(head: &[u8], limit: usize) -> Vec<u8> {
    let format = Compression::sniff(head);
    if format == Compression::None {
        return head[..head.len().min(limit)].to_vec();
    }
    let mut text = Vec::new();
    let raw: Box<dyn Read + Send> = Box::new(io::Cursor::new(head.to_vec()));
    if let Ok(mut r) = decompress(format, BufReader::new(raw)) {
        let mut chunk = [0u8; 4096];
        while text.len() < limit {
            match r.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(k) => text.extend_from_slice(&chunk[..k]),
            }
        }
    }
    text
}

/// Whether the first bytes of a file (decompressed when they are compressed)
/// are mostly no text: a binary file (a core dump, wtmp, a journal, an image),
/// not a log.
fn looks_binary(head: &[u8]) -> bool {
    let text = if Compression::sniff(head) == Compression::None {
        head.to_vec()
    } else {
        decompressed_head(head, 4096)
    };
    let utf16 = text.starts_with(&[0xFF, 0xFE])
        || text.starts_with(&[0xFE, 0xFF])
        || utf16_without_bom(&text).is_some();
    if utf16 || text.is_empty() {
        return false;
    }
    // Decided by the first region of content (a log starts with text; a core
    // dump, an image, wtmp or a journal with its binary header): from the
    // first byte that is not NUL, up to a run of NULs (a block zeroed by a
    // crash after the failure lines) or BLOCK bytes. Zeros before the text
    // do not make a log binary, nor zeros after it.
    let Some(first) = text.iter().position(|&b| b != 0) else {
        return true;
    };
    let region = &text[first..text.len().min(first + BLOCK)];
    let end = region
        .windows(NUL_RUN)
        .position(|w| w.iter().all(|&b| b == 0))
        .unwrap_or(region.len());
    let block = &region[..end];
    // Binary when over 30 % of the bytes are no text: control characters
    // other than white space and ESC, and bytes that are no UTF-8. A log with
    // a stray NUL or a few bad bytes (a crash, a bad copy) is still a log.
    let controls = block
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1b))
        .count();
    let invalid = String::from_utf8_lossy(block)
        .chars()
        .filter(|&c| c == char::REPLACEMENT_CHARACTER)
        .count();
    (controls + invalid) * 10 > block.len() * 3
}

/// The most of a file's first content its text or binary nature is judged by.
const BLOCK: usize = 512;

/// A run of NULs this long ends the region judged: padding, a zeroed block.
const NUL_RUN: usize = 64;

/// Whether text with no byte-order mark is UTF-16, by its zero bytes: text
/// in the Latin range has a NUL in every other byte (the second of each pair
/// for little-endian). `Some(true)` for little-endian.
fn utf16_without_bom(head: &[u8]) -> Option<bool> {
    let pairs: Vec<&[u8]> = head.chunks_exact(2).take(512).collect();
    if pairs.len() < 16 {
        return None;
    }
    let zero_first = pairs.iter().filter(|p| p[0] == 0 && p[1] != 0).count();
    let zero_second = pairs.iter().filter(|p| p[1] == 0 && p[0] != 0).count();
    let n = pairs.len();
    if zero_second * 10 >= n * 7 && zero_first * 10 <= n {
        Some(true)
    } else if zero_first * 10 >= n * 7 && zero_second * 10 <= n {
        Some(false)
    } else {
        None
    }
}

/// A file input, or the members of the tar archive it is.
fn file_inputs(path: &Path, inputs: &mut Vec<Input>) {
    let input = Input::file(path);
    // Only a regular file is looked into: a FIFO or a process substitution
    // is read once, by the analysis.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        inputs.push(input);
        return;
    }
    if let Some(members) =
        archive_members(path, &input.name).or_else(|| zip_members(path, &input.name))
    {
        inputs.extend(members);
        return;
    }
    // A binary file (a core dump, an image, random bytes) is no log, and a
    // report hsmdiag wrote is no evidence: each is listed as skipped with the
    // reason, not read line by line.
    let reason = File::open(path)
        .ok()
        .and_then(|mut f| not_read(&first_bytes(&mut f)));
    match reason {
        Some(reason) => inputs.push(Input {
            name: input.name,
            kind: InputKind::Skipped { reason },
        }),
        None => inputs.push(input),
    }
}

/// How the directories named as inputs are walked: which files in them are
/// read. Files named on their own are always read.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Walk {
    /// Also read hidden files and folders (names that start with `.`).
    pub hidden: bool,
    /// Also read what `.gitignore`, `.ignore` and `.hsmdiagignore` files leave out.
    pub no_ignore: bool,
    /// Read only the files whose path below the folder matches one of these
    /// globs (`*.log`, `ntls/**`); all when empty.
    pub globs: Vec<String>,
    /// Leave out the files and folders matching any of these globs (`*.pcap`, `old/`).
    pub excludes: Vec<String>,
}

impl Walk {
    /// The default walk: hidden files and ignored files left out, every other
    /// file read.
    pub fn new() -> Self {
        Walk::default()
    }

    /// Reads hidden files and folders too.
    pub fn hidden(mut self, yes: bool) -> Self {
        self.hidden = yes;
        self
    }

    /// Reads what ignore files leave out too.
    pub fn no_ignore(mut self, yes: bool) -> Self {
        self.no_ignore = yes;
        self
    }

    /// Reads only files matching this glob (repeatable).
    pub fn glob(mut self, glob: impl Into<String>) -> Self {
        self.globs.push(glob.into());
        self
    }

    /// Leaves out files and folders matching this glob (repeatable).
    pub fn exclude(mut self, glob: impl Into<String>) -> Self {
        self.excludes.push(glob.into());
        self
    }

    /// The filters for a folder: what to leave out (an override the walker
    /// applies, folders and all) and which files to read (checked on each file,
    /// so a glob never brings back a hidden or ignored file); or what is wrong
    /// with a glob.
    fn filters(
        &self,
        root: &Path,
    ) -> Result<(ignore::overrides::Override, ignore::overrides::Override), InputError> {
        let bad = |g: &str, e: ignore::Error| InputError::Open {
            path: format!("--glob {g}"),
            reason: format!("not a valid glob: {e}"),
        };
        let mut out = ignore::overrides::OverrideBuilder::new(root);
        for g in &self.excludes {
            let g2 = format!("!{}", g.strip_prefix('!').unwrap_or(g));
            out.add(&g2).map_err(|e| bad(g, e))?;
        }
        let mut only = ignore::overrides::OverrideBuilder::new(root);
        for g in &self.globs {
            only.add(g).map_err(|e| bad(g, e))?;
        }
        Ok((
            out.build().map_err(|e| bad("", e))?,
            only.build().map_err(|e| bad("", e))?,
        ))
    }
}

/// Turns command-line arguments into inputs: `-` is stdin, a directory gives
/// its files (recursively, sorted by path, hidden and git-ignored files left
/// out), a tar archive its members (`logs.tgz!var/log/messages`; compressed
/// members are decompressed, binary ones skipped), and no argument means stdin.
/// Paths that cannot be read are returned as errors beside the inputs that can.
pub fn expand(args: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    expand_with(args, &Walk::default())
}

/// [`expand`], with directories walked as `walk` says.
pub fn expand_with(args: &[PathBuf], walk: &Walk) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    if args.is_empty() {
        inputs.push(Input::stdin());
    }
    for a in args {
        if a.as_os_str() == "-" {
            inputs.push(Input::stdin());
            continue;
        }
        match std::fs::metadata(a) {
            Ok(m) if m.is_dir() => walk_dir(a, walk, &mut inputs, &mut errors),
            Ok(_) => file_inputs(a, &mut inputs),
            Err(e) => errors.push(InputError::open(&a.display().to_string(), e)),
        }
    }
    (inputs, errors)
}

/// Adds a directory's files, recursively, in path order. A directory reached
/// again through a symbolic link (a loop, or a second way in) is read once. A
/// link that leads out of the named folder is not followed, and what is no
/// regular file (a FIFO, a socket, a device) is not read: both are listed as
/// skipped, with the reason. Hidden files and what ignore files exclude are
/// left out unless `walk` says otherwise.
fn walk_dir(dir: &Path, walk: &Walk, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let Ok(root) = std::fs::canonicalize(dir) else {
        errors.push(InputError::Open {
            path: crate::printable_line(&dir.display().to_string()).into_owned(),
            reason: "cannot resolve the directory (a broken or looping link?)".into(),
        });
        return;
    };
    let seen = Seen::default();
    seen.first(&root);
    walk_tree(dir, &root, walk, &seen, inputs, errors);
}

/// The real folders a walk has entered, shared with the walker's filter.
#[derive(Debug, Clone, Default)]
struct Seen(std::sync::Arc<std::sync::Mutex<std::collections::HashSet<PathBuf>>>);

impl Seen {
    /// Whether this is the first time `real` is entered (and now it is).
    fn first(&self, real: &Path) -> bool {
        self.0
            .lock()
            .map_or(true, |mut s| s.insert(real.to_owned()))
    }
}

/// One tree of [`walk_dir`]: a link to a folder inside the root is walked
/// where it stands, as a tree of its own (the walker does not follow links),
/// and a folder reached twice is walked once.
fn walk_tree(
    dir: &Path,
    root: &Path,
    walk: &Walk,
    seen: &Seen,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<InputError>,
) {
    let (overrides, only) = match walk.filters(dir) {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    let skip = |p: &Path, reason: &str, inputs: &mut Vec<Input>| {
        inputs.push(Input {
            name: crate::printable_line(&p.display().to_string()).into_owned(),
            kind: InputKind::Skipped {
                reason: reason.into(),
            },
        });
    };
    let obey = !walk.no_ignore;
    let mut b = ignore::WalkBuilder::new(dir);
    b.hidden(!walk.hidden)
        .ignore(obey)
        .git_ignore(obey)
        .git_global(obey)
        .git_exclude(obey)
        .parents(obey)
        .follow_links(false)
        .overrides(overrides)
        .sort_by_file_path(|a, b| a.cmp(b));
    let dirs = seen.clone();
    // A folder reached a second way (through a link walked before it) is read once.
    b.filter_entry(move |e| {
        e.depth() == 0
            || e.path_is_symlink()
            || !e.file_type().is_some_and(|t| t.is_dir())
            || std::fs::canonicalize(e.path()).map_or(true, |real| dirs.first(&real))
    });
    if obey {
        b.add_custom_ignore_filename(".hsmdiagignore");
    }
    for entry in b.build() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = match &e {
                    ignore::Error::WithPath { path, .. } => path.display().to_string(),
                    _ => dir.display().to_string(),
                };
                errors.push(InputError::Open {
                    path: crate::printable_line(&path).into_owned(),
                    reason: crate::printable_line(&e.to_string()).into_owned(),
                });
                continue;
            }
        };
        if entry.depth() == 0 {
            continue;
        }
        let p = entry.path();
        let is_link = entry.path_is_symlink();
        let real = std::fs::canonicalize(p);
        if is_link && !real.as_ref().is_ok_and(|t| t.starts_with(root)) {
            skip(p, "a link out of the folder, not followed", inputs);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                if is_link && real.is_ok_and(|r| seen.first(&r)) {
                    walk_tree(p, root, walk, seen, inputs, errors);
                }
            }
            Ok(_) if !only.is_empty() && !only.matched(p, false).is_whitelist() => {}
            Ok(m) if m.is_file() => file_inputs(p, inputs),
            Ok(_) => skip(p, "not a regular file (a FIFO, socket or device)", inputs),
            Err(e) => errors.push(InputError::open(&p.display().to_string(), e)),
        }
    }
}

/// The longest line kept whole. A longer line keeps its first and its last
/// half of this, joined by ` … ` (a message at its end — the last of several
/// run together — is read, not lost to the cut); the middle is skipped, not
/// kept in memory, and the line counted ([`Lines::long_lines`]).
pub const MAX_LINE: usize = 1 << 20;

/// What joins the start and the end of a cut line.
pub const CUT_MARK: &str = " … ";

/// Reads lines with their 1-based number and byte offset. Line endings (`\n`,
/// `\r\n`, and a lone `\r`: old Mac files, progress lines of a terminal
/// capture) are removed; bytes that are not UTF-8 are replaced, not dropped; a
/// line longer than [`MAX_LINE`] is cut to it, and memory stays bounded
/// whatever the input.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    /// The end of a line longer than [`MAX_LINE`]: at most twice half of it
    /// is held, the older half dropped when it fills.
    tail: Vec<u8>,
    line: u32,
    offset: u64,
    long: u64,
}

impl<R: BufRead> Lines<R> {
    /// Wraps a reader.
    pub fn new(reader: R) -> Self {
        Lines {
            reader,
            buf: Vec::with_capacity(512),
            tail: Vec::new(),
            line: 0,
            offset: 0,
            long: 0,
        }
    }

    /// The next line as (number, offset, text), `None` at the end.
    ///
    /// # Errors
    /// The reader's I/O error.
    pub fn next_line(&mut self) -> io::Result<Option<(u32, u64, std::borrow::Cow<'_, str>)>> {
        self.buf.clear();
        self.tail.clear();
        let half = MAX_LINE / 2;
        let mut consumed = 0usize;
        let mut cut = false;
        let mut ended = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            if ended {
                // A `\r` ended the line at the end of the last chunk: a `\n`
                // right after it belongs to the same line ending.
                if avail[0] == b'\n' {
                    self.reader.consume(1);
                    consumed += 1;
                }
                break;
            }
            let (take, eol) = match memchr::memchr2(b'\n', b'\r', avail) {
                Some(i) if avail[i] == b'\n' => (i, Some(1)),
                Some(i) if i + 1 < avail.len() => {
                    (i, Some(if avail[i + 1] == b'\n' { 2 } else { 1 }))
                }
                // `\r` last in the chunk: look at the next chunk.
                Some(i) => (i, None),
                None => (avail.len(), None),
            };
            // The start of a line fills `buf`; once a line is longer than
            // MAX_LINE, `buf` keeps its first half and `tail` its latest bytes.
            let room = if cut { 0 } else { MAX_LINE - self.buf.len() };
            let kept = take.min(room);
            self.buf.extend_from_slice(&avail[..kept]);
            if take > room {
                if !cut {
                    cut = true;
                    self.tail.extend_from_slice(&self.buf[half..]);
                    self.buf.truncate(half);
                }
                self.tail.extend_from_slice(&avail[kept..take]);
                if self.tail.len() > 2 * half {
                    self.tail.drain(..self.tail.len() - half);
                }
            }
            match eol {
                Some(n) => {
                    self.reader.consume(take + n);
                    consumed += take + n;
                    break;
                }
                None if take < avail.len() => {
                    // The `\r` at the end of the chunk.
                    self.reader.consume(take + 1);
                    consumed += take + 1;
                    ended = true;
                }
                None => {
                    self.reader.consume(take);
                    consumed += take;
                }
            }
        }
        if consumed == 0 {
            return Ok(None);
        }
        let start = self.offset;
        self.offset += consumed as u64;
        self.line += 1;
        if cut {
            self.long += 1;
            let from = self.tail.len().saturating_sub(half);
            // The end starts at a character, not inside one.
            let from = (from..self.tail.len())
                .find(|&i| self.tail[i] & 0xC0 != 0x80)
                .unwrap_or(self.tail.len());
            self.buf.extend_from_slice(CUT_MARK.as_bytes());
            self.buf.extend_from_slice(&self.tail[from..]);
            self.tail = Vec::new();
        }
        // NULs before the text of a line are no part of it: the zeroed block
        // a crash or a preallocating logger leaves before the next message.
        let nuls = self.buf.iter().take_while(|&&b| b == 0).count();
        let bytes = &self.buf[nuls..];
        // Valid UTF-8 (nearly every line) is checked by the fast validator;
        // only a line that fails it is decoded lossily.
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        Ok(Some((self.line, start, text)))
    }

    /// The number of the last line read.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// How many lines were longer than [`MAX_LINE`] and cut.
    pub fn long_lines(&self) -> u64 {
        self.long
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], chunk: usize) -> (Vec<(u32, u64, String)>, u64) {
        let mut lines = Lines::new(BufReader::with_capacity(chunk, bytes));
        let mut out = Vec::new();
        while let Some((no, off, text)) = lines.next_line().unwrap() {
            out.push((no, off, text.into_owned()));
        }
        (out, lines.long_lines())
    }

    #[test]
    fn line_endings_lf_crlf_and_lone_cr_at_any_chunk_boundary() {
        let input = b"a\nb\r\nc\rd\r\r\ne\r";
        let want = vec![
            (1, 0, "a".to_owned()),
            (2, 2, "b".to_owned()),
            (3, 5, "c".to_owned()),
            (4, 7, "d".to_owned()),
            (5, 9, String::new()),
            (6, 11, "e".to_owned()),
        ];
        for chunk in 1..=input.len() + 1 {
            assert_eq!(read_all(input, chunk), (want.clone(), 0), "chunk {chunk}");
        }
        assert_eq!(read_all(b"", 8), (vec![], 0));
        assert_eq!(read_all(b"x", 8), (vec![(1, 0, "x".to_owned())], 0));
    }

    #[test]
    fn invalid_utf8_is_replaced_and_nul_kept_inside_a_line() {
        let (lines, _) = read_all(b"ok\xff\xfe end\n\0\0nul\0x\n", 64);
        assert_eq!(lines[0].2, "ok\u{FFFD}\u{FFFD} end");
        // NULs before a line's text are dropped; inside it they stay.
        assert_eq!(lines[1].2, "nul\0x");
        assert_eq!(lines[1].1, 9);
    }

    #[test]
    fn a_long_line_is_cut_counted_and_the_next_line_is_whole() {
        let mut input = b"start ".to_vec();
        input.extend(vec![b'x'; MAX_LINE * 3 + 5]);
        input.extend_from_slice(b" the end\nnext\n");
        for chunk in [64 * 1024, 1000, MAX_LINE + 3] {
            let (lines, long) = read_all(&input, chunk);
            assert_eq!(long, 1);
            assert_eq!(lines.len(), 2);
            let cut = &lines[0].2;
            assert_eq!(cut.len(), MAX_LINE + CUT_MARK.len());
            assert!(cut.starts_with("start xxx") && cut.ends_with("xxx the end"));
            assert!(cut.contains(CUT_MARK));
            assert_eq!(lines[1], (2, input.len() as u64 - 5, "next".to_owned()));
        }
    }
}
