//! One line per typed event: what `hsmdiag events` prints, for someone writing a
//! grammar pattern or a rule and wanting to see what the parser made of a log.

use std::fmt::Write as _;

use crate::event::Event;

/// Formats one event on one line:
/// `L<line> <time|-> <kind> host=<host|-> prog=<program|->[<pid>] field="value" ...`.
///
/// Field values are quoted with Rust string escapes, so the line stays one line
/// whatever the value holds.
///
/// ```
/// let analyzer = hsmdiag::Analyzer::new();
/// let events = analyzer.parse_str("NTLS[8508]: Error during SSL accept ( RC_SSL_ERROR )\n");
/// let line = hsmdiag::report::event_line(&events[0]);
/// assert!(line.starts_with(r#"L1 - ntls.ssl_accept_failed host=- prog=NTLS[8508] rc="RC_SSL_ERROR" ret="RC_SSL_ERROR""#));
/// ```
pub fn event_line(ev: &Event) -> String {
    let mut out = String::with_capacity(96);
    let time = ev.time.map_or("-".to_owned(), |t| t.to_rfc3339());
    let _ = write!(
        out,
        "L{} {} {} host={} prog={}",
        ev.span.line,
        time,
        ev.kind,
        ev.host.as_deref().unwrap_or("-"),
        ev.program.as_deref().unwrap_or("-")
    );
    if let Some(pid) = ev.pid {
        let _ = write!(out, "[{pid}]");
    }
    for f in &ev.fields {
        let _ = write!(out, " {}={:?}", f.name, f.value.to_string());
    }
    out
}
