//! A fleet behind a collector: HSMs send syslog to rsyslog, which hands every
//! message to `hsmdiag --follow --format jsonl -` through omprog. The findings
//! are keyed by host, and every jsonl line says when, where and by which
//! version.

use std::io::{BufRead, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What each HSM sends, as it goes on the wire: hsm-a and hsm-d in RFC 5424,
/// hsm-b in RFC 3164 with Luna's `NTLS [pid]:` tag, hsm-c in RFC 3164.
const FLEET: &[(&str, &[&str])] = &[
    (
        "hsm-a",
        &[
            "<174>1 2026-03-01T10:05:00.101Z hsm-a NTLS 2490 - - info : 0 : Incoming connection request... : 10.3.1.4/59415",
            "<174>1 2026-03-01T10:05:00.102Z hsm-a NTLS 2490 - - Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca",
            "<174>1 2026-03-01T10:05:00.103Z hsm-a NTLS 2490 - - Error during SSL accept ( RC_SSL_ERROR )",
            "<174>1 2026-03-01T10:05:00.104Z hsm-a NTLS 2490 - - info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59415 : RC_SSL_FAILED_HANDSHAKE",
        ],
    ),
    (
        "hsm-b",
        &[
            "<174>Mar  1 10:05:02 hsm-b NTLS [2511]: info : 0 : Incoming connection request... : 10.3.1.4/59420",
            "<174>Mar  1 10:05:02 hsm-b NTLS [2511]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca",
            "<174>Mar  1 10:05:02 hsm-b NTLS [2511]: Error during SSL accept ( RC_SSL_ERROR )",
            "<174>Mar  1 10:05:02 hsm-b NTLS [2511]: info : 0xc0000711 : Fail to establish a secure channel with client : 10.3.1.4/59420 : RC_SSL_FAILED_HANDSHAKE",
        ],
    ),
    (
        "hsm-c",
        &[
            "<172>Mar  1 10:06:40 hsm-c lunash[20117]: info : 0 : Lush user login : tenantadmin : 10.3.1.10/50214",
            "<172>Mar  1 10:07:02 hsm-c lunash[20117]: HSM Admin Login: incorrect password or PED key",
            "<172>Mar  1 10:07:31 hsm-c lunash[20117]: HSM Admin Login: incorrect password or PED key",
        ],
    ),
    (
        "hsm-d",
        &[
            "<174>1 2026-03-01T10:05:01.000Z hsm-d NTLS 2211 - - info : 0 : Incoming connection request... : 10.3.1.5/40112",
            "<174>1 2026-03-01T10:05:01.002Z hsm-d NTLS 2211 - - info : 0 : NTLS Client \"app02\" connected and authenticated : 10.3.1.5/40112.",
        ],
    ),
];

/// The jsonl lines of a file, parsed.
fn records(path: &Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter(|l| l.ends_with('}'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// (rule id, host) of every finding line, sorted.
fn by_host(records: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = records
        .iter()
        .filter(|r| r.get("id").is_some())
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_owned(),
                r["host"].as_str().unwrap_or("(none)").to_owned(),
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What the findings of this fleet must be: client 10.3.1.4 rejected by two
/// HSMs is two findings, one per host; hsm-d is healthy.
fn assert_fleet(records: &[Value]) {
    let expected: Vec<(String, String)> = [
        ("auth.login_failed", "hsm-c"),
        ("ntls.unknown_ca", "hsm-a"),
        ("ntls.unknown_ca", "hsm-b"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(by_host(records), expected, "{records:#?}");
    for r in records {
        assert_eq!(r["tool"], "hsmdiag", "{r}");
        assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"), "{r}");
        assert!(r["time"].is_string(), "every line has a time: {r}");
        if r.get("id").is_some() {
            assert_eq!(r["time"], r["last_seen"], "{r}");
            let host = r["host"].as_str().unwrap_or_default();
            assert!(
                r["message"].as_str().unwrap_or_default().contains(host),
                "the message names the host it is about: {r}"
            );
        }
    }
    let ca: Vec<&Value> = records
        .iter()
        .filter(|r| r["id"] == "ntls.unknown_ca")
        .collect();
    assert!(ca.iter().all(|r| r["subject"] == "10.3.1.4"), "{ca:#?}");
}

/// The stream as rsyslog's omprog delivers it, read from a file.
#[test]
fn findings_of_a_fleet_stream_are_keyed_by_host() {
    let out = Command::new(env!("CARGO_BIN_EXE_hsmdiag"))
        .args(["--format=jsonl", "samples/ntls/fleet-rsyslog-omprog.log"])
        .output()
        .expect("hsmdiag runs");
    assert_eq!(out.status.code(), Some(1));
    let dir = crate::scratch("fleet-file");
    let path = dir.join("out.jsonl");
    std::fs::write(&path, &out.stdout).expect("written");
    let recs = records(&path);
    assert_fleet(&recs);
    let last = recs.last().expect("a summary line");
    assert_eq!(last["summary"]["lines"], 23, "{last}");
    assert_eq!(last["time"], last["summary"]["last_time"], "{last}");
}

/// `rsyslogd` on this machine, if any (it lives in /usr/sbin, often not on a
/// user's PATH).
fn rsyslogd() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join("rsyslogd"))
        .find(|p| p.is_file())
}

/// A TCP port free on loopback just now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on loopback")
}

/// Waits until `ready` holds, up to `limit`.
fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ready()
}

/// Stops rsyslogd (and so its omprog child) when the test ends either way.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real thing: rsyslogd on loopback, four HSMs sending over TCP (each on
/// its own connection), hsmdiag behind omprog with rsyslog's default template.
#[test]
fn rsyslog_omprog_hands_a_fleet_to_hsmdiag() {
    let Some(daemon) = rsyslogd() else {
        crate::skipped(
            "rsyslog fleet test: rsyslogd is not installed (Debian: apt-get install rsyslog); .ci/run installs it",
        );
        return;
    };
    let dir = crate::scratch("fleet-rsyslog");
    let work: &std::path::Path = &dir;
    let findings = work.join("findings.jsonl");
    let port = free_port();
    let conf = work.join("rsyslog.conf");
    let program = format!(
        "{} --follow --format jsonl -o {} -",
        env!("CARGO_BIN_EXE_hsmdiag"),
        findings.display()
    );
    std::fs::write(
        &conf,
        format!(
            r#"global(workDirectory="{work}")
module(load="imtcp")
module(load="omprog")
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="hsm")
ruleset(name="hsm") {{
  action(type="omprog" binary="{program}")
}}
"#,
            work = work.display()
        ),
    )
    .expect("the configuration is written");
    let log = std::fs::File::create(work.join("rsyslogd.log")).expect("a log file");
    let child = Command::new(&daemon)
        .arg("-n")
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(work.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("a second handle"))
        .stderr(log)
        .spawn()
        .expect("rsyslogd starts");
    let mut daemon = Daemon(child);
    let rsyslog_said = || std::fs::read_to_string(work.join("rsyslogd.log")).unwrap_or_default();
    let listening = wait_for(Duration::from_secs(20), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(
        listening,
        "rsyslogd did not listen on {port}: {}",
        rsyslog_said()
    );
    for (host, lines) in FLEET {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connected");
        for l in *lines {
            writeln!(s, "{l}").unwrap_or_else(|e| panic!("{host}: {e}"));
        }
    }
    // Each finding is written as its rule fires, while rsyslog still runs.
    let fired = wait_for(Duration::from_secs(30), || {
        by_host(&records(&findings)).len() >= 3
    });
    assert!(
        fired,
        "findings while following: {:?}\nrsyslogd: {}",
        records(&findings),
        rsyslog_said()
    );
    // Stopping rsyslog closes hsmdiag's stdin: the summary line comes last.
    let pid = daemon.0.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let ended = wait_for(Duration::from_secs(20), || {
        daemon.0.try_wait().ok().flatten().is_some()
    });
    assert!(ended, "rsyslogd did not stop: {}", rsyslog_said());
    let summarised = wait_for(Duration::from_secs(10), || {
        records(&findings)
            .last()
            .is_some_and(|r| r.get("summary").is_some())
    });
    let recs = records(&findings);
    assert!(summarised, "no summary line: {recs:?}\n{}", rsyslog_said());
    assert_fleet(&recs);
    let summary = &recs.last().expect("a summary")["summary"];
    let sent: usize = FLEET.iter().map(|(_, l)| l.len()).sum();
    assert_eq!(summary["lines"], sent, "every message reached hsmdiag");
    // No line of the output is anything but a record.
    let text = std::fs::read(&findings).expect("findings");
    assert!(text.lines().all(|l| l.is_ok_and(|l| l.starts_with('{'))));
}
