//! Writes a large, deterministic, realistic appliance log for the speed and
//! memory measurements in benches/README.md: mostly benign NTLS connections,
//! sshd logins and LunaSH command-log lines; rare incidents (unknown-CA
//! handshakes, failed HSM Admin logins, expired certificates); and now and then a
//! multi-line ARM error document pasted by an operator.
//!
//! `cargo bench --bench genlog -- OUT.log MIB` (default 256 MiB).
//!
//! `cargo bench --bench genlog -- OUT.log clients N` writes instead N distinct
//! clients (10.0.0.0/8 in order), each failing the NTLS handshake on an unknown
//! CA and connecting once, on two HSMs: the input for the bound on memory with
//! many subjects.

use std::io::{BufWriter, Write};

/// A small deterministic generator (SplitMix64), so every run writes the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // Cargo runs a bench from its crate's folder; a relative path is taken
    // from the workspace's root, where the command was typed.
    let out = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join(args.first().map_or("genlog.log", String::as_str));
    let out = out.as_path();
    if args.get(1).map(String::as_str) == Some("clients") {
        let n: u64 = args
            .get(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        return clients(out, n);
    }
    let mib: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(256);
    let limit = mib << 20;
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = Rng(0x5EED_1792);
    let mut written = 0u64;
    let mut t = 0u64; // seconds since 2026-03-01 00:00:00
    let mut buf = String::with_capacity(4096);
    while written < limit {
        buf.clear();
        t += rng.below(3);
        let (day, h, m, s) = (
            1 + (t / 86_400) % 28,
            (t / 3600) % 24,
            (t / 60) % 60,
            t % 60,
        );
        let month = MONTHS[(2 + t / (86_400 * 28)) as usize % 12];
        let ts = format!("2026 {month} {day:02} {h:02}:{m:02}:{s:02}");
        let hsm = if rng.below(2) == 0 { "hsm1" } else { "hsm2" };
        let client = format!("10.3.{}.{}", 1 + rng.below(3), 4 + rng.below(60));
        let port = 32768 + rng.below(28000);
        let roll = rng.below(100_000);
        match roll {
            // Rare incidents.
            0..=19 => {
                for msg in [
                    format!("info : 0 : Incoming connection request... : {client}/{port}"),
                    "Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca".to_owned(),
                    "Error during SSL accept ( RC_SSL_ERROR )".to_owned(),
                    format!("info : 0xc0000711 : Fail to establish a secure channel with client : {client}/{port} : RC_SSL_FAILED_HANDSHAKE"),
                    format!("info : 0 : NTLS Client \"Unknown host name\" Connection instance removed : {client}/{port}"),
                ] {
                    buf.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: {msg}\n"));
                }
            }
            20..=24 => buf.push_str(&format!(
                "{ts} {hsm} local5 warn lunash [3301]: HSM Admin Login: incorrect password or PED key\n{ts} {hsm} local5 info lunash [3301]: info : 0 : Command: hsm login  : tenantadmin : {client}/{port}\n"
            )),
            25..=27 => buf.push_str(&format!(
                "{ts} {hsm} local5 info NTLS [2490]: Error message from SSLAccept is : error:14094415:SSL routines:ssl3_read_bytes:sslv3 alert certificate expired\n"
            )),
            28 => {
                // An operator pasted a deployment error into the ticket's log.
                buf.push_str("ERROR: {\"status\":\"Failed\",\"error\":{\"code\":\"DeploymentFailed\",\n  \"message\":\"At least one resource deployment operation failed.\",\n  \"details\":[{\"code\":\"AnotherOperationInProgress\",\n    \"target\":\"/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/hsm-rg/providers/Microsoft.Network/virtualNetworks/hsm-vnet/subnets/GatewaySubnet\",\n    \"message\":\"Another operation on this or dependent resource is in progress.\"}]}}\n");
            }
            // Benign traffic.
            29..=6_000 => buf.push_str(&format!(
                "{ts} {hsm} local5 info lunash [3301]: info : 0 : Command: {}  : tenantadmin : {client}/{port}\n",
                ["hsm show", "partition show", "ntls information show", "syslog tail", "client list"][rng.below(5) as usize]
            )),
            6_001..=9_000 => buf.push_str(&format!(
                "{ts} {hsm} authpriv info sshd[{}]: Accepted publickey for tenantadmin from {client} port {port} ssh2\n",
                800 + rng.below(200)
            )),
            _ => {
                let app = rng.below(40);
                buf.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: info : 0 : Incoming connection request... : {client}/{port}\n"));
                buf.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: info : 0 : Handshake result from: {client}/{port}, result: Success\n"));
                buf.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: info : 0 : NTLS Client \"app{app}\" connected and authenticated : {client}/{port}.\n"));
                buf.push_str(&format!("{ts} {hsm} local5 info NTLS [2490]: info : 0 : NTLS Client \"app{app}\" Connection instance removed : {client}/{port}\n"));
            }
        }
        w.write_all(buf.as_bytes())?;
        written += buf.len() as u64;
    }
    w.flush()?;
    eprintln!("wrote {}: {written} bytes", out.display());
    Ok(())
}

/// N distinct clients, each with one unknown-CA handshake failure and one
/// successful connection.
fn clients(out: &std::path::Path, n: u64) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    for i in 0..n {
        let t = i / 20;
        let (day, h, m, s) = (
            1 + (t / 86_400) % 28,
            (t / 3600) % 24,
            (t / 60) % 60,
            t % 60,
        );
        let ts = format!("2026 Mar {day:02} {h:02}:{m:02}:{s:02}");
        let hsm = if i % 2 == 0 { "hsm1" } else { "hsm2" };
        let client = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        let port = 32768 + i % 28000;
        writeln!(
            w,
            "{ts} {hsm} local5 info NTLS [2490]: info : 0 : Incoming connection request... : {client}/{port}"
        )?;
        writeln!(
            w,
            "{ts} {hsm} local5 info NTLS [2490]: Error message from SSLAccept is : error:14094418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca"
        )?;
        writeln!(
            w,
            "{ts} {hsm} local5 info NTLS [2490]: info : 0xc0000711 : Fail to establish a secure channel with client : {client}/{port} : RC_SSL_FAILED_HANDSHAKE"
        )?;
        writeln!(
            w,
            "{ts} {hsm} local5 info NTLS [2490]: info : 0 : NTLS Client \"app{}\" connected and authenticated : {client}/{}.",
            i % 40,
            port + 1
        )?;
    }
    w.flush()?;
    eprintln!("wrote {}: {n} clients", out.display());
    Ok(())
}
