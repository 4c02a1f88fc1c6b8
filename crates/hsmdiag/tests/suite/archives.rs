//! A log export as the appliance makes it (`syslog tarlogs`: a compressed tar
//! of /var/log, rotated files gzipped inside, binary files beside them) reads
//! as its members, each its own input, with the findings its members give
//! when read one by one.

use std::io::Write;
use std::path::{Path, PathBuf};

use hsmdiag::Report;

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(root!()).join(rel)).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The members of the export: (path inside the archive, bytes).
fn members() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "var/log/messages",
            sample("samples/ntls/unknown-ca-appliance.log"),
        ),
        (
            "var/log/messages.1",
            sample("samples/ntls/cert-expired-client-alert.log"),
        ),
        (
            "var/log/messages.2.gz",
            gzip(&sample("samples/luna/syslog-hsm-admin-zeroized.log")),
        ),
        // Binary files of /var/log: wtmp records, a journal.
        (
            "var/log/wtmp",
            vec![7, 0, 0, 0, 0x2a, 0, 0, 0, b'p', b't', b's', 0, 0, 0],
        ),
        (
            "var/log/journal/system.journal",
            b"LPKSHHRH\0\0\0\0\x02\0\0\0".to_vec(),
        ),
    ]
}

fn tarball(dir: &Path) -> PathBuf {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in members() {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_764_000_000);
        h.set_cksum();
        tar.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    let tgz = dir.join("hsm1-tarlogs.tgz");
    std::fs::write(&tgz, gzip(&tar.into_inner().unwrap())).unwrap();
    tgz
}

/// What a report says, without the input names: id, severity, subject,
/// count and evidence lines of each finding.
fn gist(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .findings
        .iter()
        .map(|f| {
            let lines: Vec<u32> = f.evidence.iter().map(|e| e.line).collect();
            format!(
                "{} {:?} {} x{} {:?}",
                f.id, f.severity, f.subject, f.count, lines
            )
        })
        .collect();
    v.sort();
    v
}

/// The archive's inputs analysed, and its text members written out and read
/// one by one: both reports, once checked that the binary members were listed
/// (not read) and that they give the same findings.
fn read_as_members(inputs: &[hsmdiag::Input], dir: &Path) -> (Report, Report) {
    let analyzer = crate::analyzer();
    let (report, errors) = analyzer.analyze(inputs);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        report.summary.skipped.len(),
        2,
        "{:?}",
        report.summary.skipped
    );
    assert_eq!(report.summary.inputs, 3);
    let mut one_by_one = Vec::new();
    for (i, (path, data)) in members().into_iter().enumerate().take(3) {
        let f = dir.join(format!("{i}-{}", path.replace('/', "_")));
        std::fs::write(&f, data).unwrap();
        one_by_one.push(hsmdiag::Input::file(f));
    }
    let (alone, _) = analyzer.analyze(&one_by_one);
    assert_eq!(gist(&report), gist(&alone));
    (report, alone)
}

#[test]
fn a_tarlogs_export_gives_the_findings_of_its_members() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-archive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tgz = tarball(&dir);

    let (inputs, errors) = hsmdiag::expand(std::slice::from_ref(&tgz));
    assert!(errors.is_empty(), "{errors:?}");
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let archive = tgz.display().to_string();
    for (path, _) in members() {
        assert!(
            names.contains(&format!("{archive}!{path}").as_str()),
            "{names:?}"
        );
    }
    let (report, alone) = read_as_members(&inputs, &dir);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.id == "auth.hsm_so_zeroized"),
        "the gzipped member was read"
    );
    assert_eq!(report.summary.lines, alone.summary.lines);

    // The text summary names what was skipped.
    let mut text = Vec::new();
    hsmdiag::write_text(&report, &mut text, hsmdiag::TextOptions::new(false, 100)).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Skipped 2 files, not read"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_plain_or_gzipped_log_is_no_archive() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-noarchive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("messages.gz");
    std::fs::write(&gz, gzip(&sample("samples/ntls/unknown-ca-appliance.log"))).unwrap();
    let (inputs, _) = hsmdiag::expand(std::slice::from_ref(&gz));
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0].name, gz.display().to_string());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_cut_off_archive_gives_the_members_before_the_cut() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-cutarchive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in members().into_iter().take(2) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, data.as_slice()).unwrap();
    }
    let mut bytes = tar.into_inner().unwrap();
    let first = members()[0].1.len();
    bytes.truncate(512 + first.div_ceil(512) * 512 + 700);
    let t = dir.join("cut.tar");
    std::fs::write(&t, bytes).unwrap();
    let (inputs, errors) = hsmdiag::expand(&[t]);
    assert!(errors.is_empty());
    assert!(!inputs.is_empty());
    let (report, _) = crate::analyzer().analyze(&inputs);
    assert!(report.findings.iter().any(|f| f.id == "ntls.unknown_ca"));
    std::fs::remove_dir_all(&dir).ok();
}

/// The same export as a zip (downloaded through a browser, zipped on
/// Windows): members deflated or stored, the rotated file gzipped inside, the
/// binary files skipped; the same findings as the members read one by one.
#[test]
fn a_zipped_export_gives_the_findings_of_its_members() {
    let dir = std::env::temp_dir().join(format!("hsmdiag-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hsm1-logs.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (i, (name, data)) in members().into_iter().enumerate() {
        let method = if i % 2 == 0 {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        zip.start_file(name, opts).unwrap();
        zip.write_all(&data).unwrap();
    }
    zip.add_directory("var/log/empty/", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.finish().unwrap();

    let (inputs, errors) = hsmdiag::expand(std::slice::from_ref(&path));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(inputs.len(), members().len(), "{inputs:?}");
    let (report, alone) = read_as_members(&inputs, &dir);
    assert_eq!(report.summary.lines, alone.summary.lines);
    std::fs::remove_dir_all(&dir).ok();
}
