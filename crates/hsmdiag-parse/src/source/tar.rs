//! Reading a tar archive's member list (ustar, GNU and pax), as the appliance's
//! `syslog tarlogs` export and `tar czf` write it: each member's name, where its
//! bytes start in the (decompressed) stream and how many there are, and its
//! first bytes to tell text from binary. Members are read later, on their own,
//! from that offset; nothing here is written.

use std::io::{self, Read};

/// A tar header and its data are in 512-byte blocks.
const BLOCK: u64 = 512;
/// How much of a member is kept to tell text from binary.
const HEAD: usize = 8192;
/// The longest GNU long name or pax header read (a longer one is no log export).
const MAX_META: u64 = 1 << 20;

/// One member of an archive.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Its path inside the archive.
    pub path: String,
    /// Where its data starts, from the start of the decompressed stream.
    pub offset: u64,
    /// Its size in bytes.
    pub size: u64,
    /// A regular file (not a directory, link or device).
    pub is_file: bool,
    /// A symbolic or hard link.
    pub is_link: bool,
    /// Up to its first 8 KiB.
    pub head: Vec<u8>,
}

/// The members of a tar stream, in order. A stream cut off part-way ends with
/// an error after the members before the cut.
pub(crate) struct Entries<R> {
    reader: R,
    pos: u64,
    /// Bytes of the previous member (and its padding) still to skip.
    skip: u64,
    done: bool,
}

impl<R: Read> Entries<R> {
    pub(crate) fn new(reader: R) -> Self {
        Entries {
            reader,
            pos: 0,
            skip: 0,
            done: false,
        }
    }

    fn skip(&mut self) -> io::Result<()> {
        let n = io::copy(&mut (&mut self.reader).take(self.skip), &mut io::sink())?;
        self.pos += n;
        if n < self.skip {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.skip = 0;
        Ok(())
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.reader.read_exact(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// Reads `size` bytes of metadata (a long name, a pax header) and its padding.
    fn read_meta(&mut self, size: u64) -> io::Result<Vec<u8>> {
        if size > MAX_META {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "tar metadata too long",
            ));
        }
        let mut data = vec![0u8; size as usize];
        self.read_exact(&mut data)?;
        self.skip = padding(size);
        self.skip()?;
        Ok(data)
    }

    fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        self.skip()?;
        let mut long_name: Option<String> = None;
        loop {
            let mut header = [0u8; BLOCK as usize];
            self.read_exact(&mut header)?;
            if header.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            if !checksum_ok(&header) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad tar header"));
            }
            let size = number(&header[124..136])
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad tar size"))?;
            let kind = header[156];
            match kind {
                b'L' => {
                    let data = self.read_meta(size)?;
                    long_name = Some(text(&data));
                    continue;
                }
                b'x' => {
                    let data = self.read_meta(size)?;
                    if let Some(p) = pax_path(&data) {
                        long_name = Some(p);
                    }
                    continue;
                }
                b'g' => {
                    self.read_meta(size)?;
                    continue;
                }
                _ => {}
            }
            let path = long_name.take().unwrap_or_else(|| {
                let name = text(&header[0..100]);
                let prefix = if &header[257..262] == b"ustar" {
                    text(&header[345..500])
                } else {
                    String::new()
                };
                if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                }
            });
            let is_file = matches!(kind, b'0' | 0 | b'7');
            let is_link = matches!(kind, b'1' | b'2');
            let offset = self.pos;
            let mut head = Vec::new();
            if is_file {
                let want = size.min(HEAD as u64);
                (&mut self.reader).take(want).read_to_end(&mut head)?;
                self.pos += head.len() as u64;
            }
            self.skip = size - head.len() as u64 + padding(size);
            return Ok(Some(Entry {
                path,
                offset,
                size,
                is_file,
                is_link,
                head,
            }));
        }
    }
}

impl<R: Read> Iterator for Entries<R> {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_entry();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// A NUL- or space-terminated header string.
fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// An octal header number, or GNU's base-256 form (high bit set) for large sizes.
fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut n: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(n);
    }
    let digits = std::str::from_utf8(field).ok()?;
    let digits = digits.trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// The header's checksum: the sum of its bytes with the checksum field as spaces.
fn checksum_ok(header: &[u8; BLOCK as usize]) -> bool {
    let Some(want) = number(&header[148..156]) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == want
}

/// The `path` record of a pax extended header (`LEN path=VALUE\n` records).
fn pax_path(data: &[u8]) -> Option<String> {
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..sp]).ok()?.parse().ok()?;
        if len <= sp || len > rest.len() {
            return None;
        }
        let record = &rest[sp + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(v) = record.strip_prefix(b"path=") {
            return Some(String::from_utf8_lossy(v).into_owned());
        }
        rest = &rest[len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: u64, kind: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn member(out: &mut Vec<u8>, name: &str, data: &[u8], kind: u8) {
        out.extend_from_slice(&header(name, data.len() as u64, kind));
        out.extend_from_slice(data);
        out.resize(out.len() + padding(data.len() as u64) as usize, 0);
    }

    #[test]
    fn members_long_names_and_offsets() {
        let mut tar = Vec::new();
        member(&mut tar, "var/log/", b"", b'5');
        member(&mut tar, "var/log/messages", b"line one\n", b'0');
        let long = format!("var/log/{}/hsm.log", "d".repeat(120));
        member(&mut tar, "././@LongLink", long.as_bytes(), b'L');
        member(&mut tar, "ignored", b"second\n", b'0');
        tar.extend_from_slice(&[0u8; 1024]);
        let got: Vec<Entry> = Entries::new(&tar[..]).collect::<io::Result<_>>().unwrap();
        assert_eq!(got.len(), 3);
        assert!(!got[0].is_file);
        assert_eq!(got[1].path, "var/log/messages");
        assert_eq!(got[1].offset, 1024);
        assert_eq!(
            &tar[got[1].offset as usize..][..got[1].size as usize],
            b"line one\n"
        );
        assert_eq!(got[2].path, long);
        assert_eq!(got[2].head, b"second\n");
    }

    #[test]
    fn a_cut_archive_gives_the_members_before_the_cut() {
        let mut tar = Vec::new();
        member(&mut tar, "a.log", b"a\n", b'0');
        member(&mut tar, "b.log", &[b'b'; 2000], b'0');
        tar.truncate(512 * 3);
        let got: Vec<_> = Entries::new(&tar[..]).collect();
        assert_eq!(got[0].as_ref().unwrap().path, "a.log");
        assert!(got.iter().any(Result::is_err) || got.len() == 2);
    }

    #[test]
    fn pax_path_and_base256_size() {
        assert_eq!(
            pax_path(b"18 path=a/b/c.log\n").as_deref(),
            Some("a/b/c.log")
        );
        assert_eq!(number(&[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), Some(256));
        assert_eq!(number(b"00000000012\0"), Some(10));
    }
}
