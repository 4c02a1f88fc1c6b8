//! Throughput of the parser and of the whole pipeline over a generated Luna
//! appliance log: busy NTLS traffic, LunaSH commands, certmonitord, and a
//! handshake failure every few hundred lines.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hsmdiag::parser::{LineParser, ParseCtx};
use hsmdiag::{AnalyzerBuilder, Grammar, SourceId};

/// About `lines` lines of appliance log in Luna's own format.
fn appliance_log(lines: usize) -> String {
    let mut s = String::with_capacity(lines * 120);
    let mut n = 0;
    let mut i = 0u32;
    while n < lines {
        let (h, m, sec) = (8 + (i / 3600) % 12, (i / 60) % 60, i % 60);
        let ts = format!("2026 Mar 01 {h:02}:{m:02}:{sec:02} hsm1  local5 info ");
        let port = 40000 + (i % 20000);
        let client = format!("10.3.1.{}", 4 + i % 40);
        if i % 200 == 7 {
            s.push_str(&format!(
                "{ts} NTLS [2490]: info : 0 : Incoming connection request... : {client}/{port}\n"
            ));
            s.push_str(&format!("{ts} NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n"));
            s.push_str(&format!(
                "{ts} NTLS [2490]: Error during SSL accept ( RC_SSL_ERROR )\n"
            ));
            s.push_str(&format!("{ts} NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {client}/{port} : RC_SSL_FAILED_HANDSHAKE\n"));
            n += 4;
        } else if i % 50 == 3 {
            s.push_str(&format!("{ts} lunash [3301]: info : 0 : Command: partition show  : tenantadmin : 10.3.1.10/52210\n"));
            n += 1;
        } else if i % 97 == 5 {
            s.push_str(&format!("{ts} sshd[811]: Accepted publickey for tenantadmin from 10.3.1.10 port 52210 ssh2\n"));
            n += 1;
        } else {
            s.push_str(&format!(
                "{ts} NTLS [2490]: info : 0 : Incoming connection request... : {client}/{port}\n"
            ));
            s.push_str(&format!("{ts} NTLS [2490]: info : 0 : Handshake result from: {client}/{port}, result: Success\n"));
            s.push_str(&format!("{ts} NTLS [2490]: info : 0 : NTLS Client \"app{}\" connected and authenticated : {client}/{port}.\n", i % 40));
            s.push_str(&format!("{ts} NTLS [2490]: info : 0 : NTLS Client \"app{}\" Connection instance removed : {client}/{port}\n", i % 40));
            n += 4;
        }
        i += 1;
    }
    s
}

fn benches(c: &mut Criterion) {
    let log = appliance_log(100_000);
    let grammar = Grammar::builtin();
    let analyzer = AnalyzerBuilder::new().build().expect("built-in files load");
    let coverage = AnalyzerBuilder::new()
        .coverage(true)
        .build()
        .expect("built-in files load");

    let mut g = c.benchmark_group("luna_appliance");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10);
    g.bench_function("parse", |b| {
        b.iter(|| {
            let mut parser = LineParser::new(&grammar, ParseCtx::new(SourceId(0)));
            let mut events = Vec::new();
            let mut offset = 0u64;
            let mut count = 0usize;
            for (i, line) in log.lines().enumerate() {
                events.clear();
                parser.push_line(line, i as u32 + 1, offset, &mut events);
                offset += line.len() as u64 + 1;
                count += events.len();
            }
            count
        })
    });
    // The default: the prefilter counts the lines no rule can read.
    g.bench_function("pipeline", |b| {
        b.iter(|| analyzer.analyze_str("bench.log", &log).findings.len())
    });
    // --coverage: every line typed.
    g.bench_function("pipeline_coverage", |b| {
        b.iter(|| coverage.analyze_str("bench.log", &log).findings.len())
    });
    // The prefilter's look at every line, alone.
    let prefilter = analyzer.prefilter().expect("the built-in grammar has one");
    g.bench_function("prefilter", |b| {
        b.iter(|| log.lines().filter(|l| prefilter.look(l).wanted).count())
    });
    g.finish();

    // Deployment output as pasted into tickets: every Azure sample (CLI, PowerShell,
    // Terraform, ARM JSON, debug traces), repeated; mostly multi-line JSON.
    let mut azure = String::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/azure");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("samples/azure exists")
        .map(|e| e.expect("readable entry").path())
        .collect();
    files.sort();
    let once: String = files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable sample") + "\n")
        .collect();
    for _ in 0..50 {
        azure.push_str(&once);
    }
    let mut g = c.benchmark_group("azure_outputs");
    g.throughput(Throughput::Bytes(azure.len() as u64));
    g.sample_size(10);
    g.bench_function("pipeline", |b| {
        b.iter(|| analyzer.analyze_str("azure.txt", &azure).findings.len())
    });
    g.finish();
}

/// `n` distinct clients, each failing the NTLS handshake on an unknown CA.
fn many_clients(n: u32) -> String {
    let mut s = String::with_capacity(n as usize * 420);
    for i in 0..n {
        let t = i / 20;
        let ts = format!(
            "2026 Mar 01 {:02}:{:02}:{:02}",
            (t / 3600) % 24,
            (t / 60) % 60,
            t % 60
        );
        let hsm = if i % 2 == 0 { "hsm1" } else { "hsm2" };
        let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        let port = 32768 + i % 28000;
        s.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: info : 0 : Incoming connection request... : {ip}/{port}\n"));
        s.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n"));
        s.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {ip}/{port} : RC_SSL_FAILED_HANDSHAKE\n"));
    }
    s
}

/// 100,000 distinct failing clients: the whole analysis, and the report
/// redacted (`--redact`: values found, replaced, leak-checked).
fn bounded(c: &mut Criterion) {
    let log = many_clients(100_000);
    let analyzer = AnalyzerBuilder::new().build().expect("built-in files load");
    let report = analyzer.analyze_str("clients.log", &log);
    let mut g = c.benchmark_group("clients_100k");
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.sample_size(10);
    g.bench_function("analyze", |b| {
        b.iter(|| analyzer.analyze_str("clients.log", &log).findings.len())
    });
    g.bench_function("redact", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            hsmdiag::write_json(&report, &mut out).expect("renders");
            let text = String::from_utf8(out).expect("UTF-8");
            let (ready, r) = hsmdiag::redact::prepare(&report);
            let redacted = r.apply(&text);
            r.check(&redacted).expect("nothing left");
            (ready.findings.len(), redacted.len())
        })
    });
    g.finish();
}

/// Redaction as the number of distinct values grows (1k, 10k, 100k): values
/// found line by line, every line redacted, the whole output leak-checked.
/// Linear in the output: one automaton over the map, secrets searched line by
/// line.
fn redaction_scales(c: &mut Criterion) {
    let mut g = c.benchmark_group("redact_distinct");
    g.sample_size(10);
    for n in [1_000u32, 10_000, 100_000] {
        let lines: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "2026 Nov 20 02:05:00 hsm1 local5 info NTLS [2490]: client 10.{}.{}.{}/59415 request {:08x}-0000-4000-8000-{:012x} failed",
                    i >> 16 & 255,
                    i >> 8 & 255,
                    i & 255,
                    i,
                    u64::from(i) * 7919
                )
            })
            .collect();
        g.throughput(Throughput::Elements(u64::from(n)));
        g.bench_function(n.to_string(), |b| {
            b.iter(|| {
                let mut d = hsmdiag::redact::Discovery::default();
                for l in &lines {
                    d.line(l);
                }
                let r = d.finish();
                let out: String = lines.iter().map(|l| r.apply(l) + "\n").collect();
                r.check(&out).expect("nothing left");
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(pipeline, benches, bounded, redaction_scales);
criterion_main!(pipeline);
