//! Syslog framing: the header in front of a message, in the forms Luna
//! appliances and their collectors write.
//!
//! - the appliance's own files and `syslog tail` output:
//!   `2012 Feb 29 12:05:01 myLuna  local5 info  NTLS [1234]: info : 0 : ...`
//! - RFC 5424: `<134>1 2026-03-01T10:00:00.123Z myLuna NTLS 8508 - - message`
//! - RFC 3164 (BSD), with or without `<PRI>`: `Mar  1 10:00:00 myLuna NTLS[8508]: message`,
//!   and the ISO-timestamp variant rsyslog forwards: `2026-03-01T10:00:00+00:00 myLuna NTLS[8508]: message`
//! - a bare tag, as pasted from a ticket: `NTLS[8508]: message`
//!
//! A line a copy-paste has run together (`NTLS[8508]: a NTLS[8508]: b`) is
//! split into one segment per message by [`segments`].

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{map_res, opt, recognize};
use nom::sequence::{delimited, terminated};
use nom::{IResult, Parser};
use regex::Regex;

/// When the header says a message was logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Date and time with no zone (Luna's format, and RFC 3164 once a year is supplied).
    Local(NaiveDateTime),
    /// RFC 3164's month, day and time with no year: the year comes from context.
    YearLess {
        /// 1–12.
        month: u32,
        /// 1–31.
        day: u32,
        /// Time of day.
        time: NaiveTime,
    },
    /// A timestamp with its UTC offset (RFC 5424, ISO 8601).
    Zoned(DateTime<FixedOffset>),
}

/// A parsed syslog header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header<'a> {
    /// The timestamp, if any.
    pub stamp: Option<Stamp>,
    /// HOSTNAME.
    pub host: Option<&'a str>,
    /// The program or tag.
    pub program: Option<&'a str>,
    /// The pid inside `[...]`.
    pub pid: Option<u32>,
    /// Byte offset of the message inside the parsed text.
    pub msg_start: usize,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(i: &str) -> IResult<&str, u32> {
    let (rest, m) = take_while_m_n(3, 3, |c: char| c.is_ascii_alphabetic()).parse(i)?;
    match MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m)) {
        Some(p) => Ok((rest, p as u32 + 1)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

fn num<T: std::str::FromStr>(min: usize, max: usize) -> impl FnMut(&str) -> IResult<&str, T> {
    move |i| {
        map_res(
            take_while_m_n(min, max, |c: char| c.is_ascii_digit()),
            str::parse::<T>,
        )
        .parse(i)
    }
}

fn hms(i: &str) -> IResult<&str, NaiveTime> {
    let (i, h) = num::<u32>(2, 2)(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, m) = num::<u32>(2, 2)(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, s) = num::<u32>(2, 2)(i)?;
    // Fractions of a second are kept when present.
    // `,123` is the log4j / Python logging form.
    let (i, frac) = opt((alt((char('.'), char(','))), digit1)).parse(i)?;
    let nanos = frac.map_or(0, |(_, d): (char, &str)| {
        let d = &d[..d.len().min(9)];
        d.parse::<u32>().unwrap_or(0) * 10u32.pow(9 - d.len() as u32)
    });
    match NaiveTime::from_hms_nano_opt(h, m, s, nanos) {
        Some(t) => Ok((i, t)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        ))),
    }
}

/// `Feb 29 12:05:01` (day may be space-padded).
fn bsd_stamp(i: &str) -> IResult<&str, (u32, u32, NaiveTime)> {
    let (i, m) = month(i)?;
    let (i, _) = space1.parse(i)?;
    let (i, d) = num::<u32>(1, 2)(i)?;
    let (i, _) = space1.parse(i)?;
    let (i, t) = hms(i)?;
    Ok((i, (m, d, t)))
}

/// `2012 Feb 29 12:05:01` — the Luna appliance's own form.
fn luna_stamp(i: &str) -> IResult<&str, Stamp> {
    let (i, y) = num::<i32>(4, 4)(i)?;
    let (i, _) = space1.parse(i)?;
    let (rest, (m, d, t)) = bsd_stamp(i)?;
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => Ok((rest, Stamp::Local(date.and_time(t)))),
        None => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        ))),
    }
}

/// `2026-03-01T10:00:00.123+01:00` / `Z`, or without a zone; application logs'
/// `2026-03-01 10:00:00,123` and Go's `2026/03/01 10:00:00`.
fn iso_stamp(i: &str) -> IResult<&str, Stamp> {
    let (rest, text) = recognize((
        num::<i32>(4, 4),
        alt((char('-'), char('/'))),
        num::<u32>(2, 2),
        alt((char('-'), char('/'))),
        num::<u32>(2, 2),
        alt((char('T'), char(' '))),
        hms,
        opt(alt((
            recognize(char('Z')),
            recognize((
                alt((char('+'), char('-'))),
                num::<u32>(2, 2),
                opt(char(':')),
                num::<u32>(2, 2),
            )),
        ))),
    ))
    .parse(i)?;
    let normal;
    let text = if text.contains(['/', ',']) {
        normal = text.replace('/', "-").replace(',', ".");
        normal.as_str()
    } else {
        text
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
        return Ok((rest, Stamp::Zoned(t)));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, f) {
            return Ok((rest, Stamp::Zoned(t)));
        }
    }
    match NaiveDateTime::parse_from_str(&text.replacen(' ', "T", 1), "%Y-%m-%dT%H:%M:%S%.f") {
        Ok(t) => Ok((rest, Stamp::Local(t))),
        Err(_) => Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Verify,
        ))),
    }
}

fn pri(i: &str) -> IResult<&str, &str> {
    delimited(
        char('<'),
        take_while_m_n(1, 3, |c: char| c.is_ascii_digit()),
        char('>'),
    )
    .parse(i)
}

fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// A program name: a letter, then letters, digits and `_-./`.
fn tag_name(i: &str) -> IResult<&str, &str> {
    recognize((
        take_while_m_n(1, 1, |c: char| c.is_ascii_alphabetic()),
        take_while(is_tag_char),
    ))
    .parse(i)
}

/// `NTLS[8508]:`, `NTLS [8508]:` or `sshd:` followed by a space or the end.
fn program_tag(i: &str) -> IResult<&str, (&str, Option<u32>)> {
    let (i, name) = tag_name(i)?;
    let (i, pid) = opt(delimited((space0, char('[')), num::<u32>(1, 10), char(']'))).parse(i)?;
    let (i, _) = char(':').parse(i)?;
    // `TAG:` needs a blank after it; `TAG[pid]:` is distinctive enough without
    // one (a log collapsed onto one line loses it: `NTLS[8508]:Error ...`).
    if pid.is_none() && !(i.is_empty() || i.starts_with(' ') || i.starts_with('\t')) {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        )));
    }
    Ok((i, (name, pid)))
}

/// `NTLS[8508]` followed by a blank, with no colon: how rsyslog's file
/// templates (`RSYSLOG_FileFormat`, `RSYSLOG_TraditionalFileFormat`, omprog's
/// default) write the tag of a message that came in as RFC 5424. Only taken
/// after a time and a host, where nothing else has that shape.
fn bare_program_pid(i: &str) -> IResult<&str, (&str, u32)> {
    let (rest, name) = tag_name(i)?;
    let (rest, pid) = delimited(char('['), num::<u32>(1, 10), char(']')).parse(rest)?;
    if rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t') {
        Ok((rest, (name, pid)))
    } else {
        Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        )))
    }
}

fn hostname(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| !c.is_whitespace()).parse(i)
}

const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];
const SEVERITIES: &[&str] = &[
    "emerg", "alert", "crit", "err", "error", "warning", "warn", "notice", "info", "debug",
];

/// Luna's `local5 info` pair between host and tag.
fn facility_severity(i: &str) -> IResult<&str, ()> {
    let (rest, f) =
        terminated(take_while1(|c: char| c.is_ascii_alphanumeric()), space1).parse(i)?;
    let (rest, s) = take_while1(|c: char| c.is_ascii_alphabetic()).parse(rest)?;
    if FACILITIES.contains(&f) && SEVERITIES.contains(&s) {
        Ok((rest, ()))
    } else {
        Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        )))
    }
}

fn skip_ws(i: &str) -> &str {
    i.trim_start_matches([' ', '\t'])
}

/// RFC 5424 after `<PRI>`: `1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
fn nil_or(s: &str) -> Option<&str> {
    if s == "-" { None } else { Some(s) }
}

fn rfc5424(i: &str) -> IResult<&str, Header<'_>> {
    let (i, _) = (num::<u32>(1, 2), space1).parse(i)?;
    let (i, stamp) = alt((iso_stamp.map(Some), tag("-").map(|_| None))).parse(i)?;
    let (i, _) = space1.parse(i)?;
    let (i, host) = hostname(i)?;
    let (i, _) = space1.parse(i)?;
    let (i, app) = hostname(i)?;
    let (i, _) = space1.parse(i)?;
    let (i, procid) = hostname(i)?;
    let (i, _) = space1.parse(i)?;
    let (i, _msgid) = hostname(i)?;
    let (i, _) = space1.parse(i)?;
    // Structured data: `-` or one or more `[...]` elements (with escaped `]`).
    let i = if let Some(r) = i.strip_prefix('-') {
        r
    } else {
        let mut r = i;
        while r.starts_with('[') {
            let mut esc = false;
            let mut end = None;
            for (k, c) in r.char_indices().skip(1) {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, '\\') => esc = true,
                    (false, ']') => {
                        end = Some(k);
                        break;
                    }
                    _ => {}
                }
            }
            match end {
                Some(k) => r = &r[k + 1..],
                None => {
                    return Err(nom::Err::Error(nom::error::Error::new(
                        i,
                        nom::error::ErrorKind::Char,
                    )));
                }
            }
        }
        r
    };
    let i = i.strip_prefix(' ').unwrap_or(i);
    let i = i.strip_prefix('\u{feff}').unwrap_or(i);
    let mut pid = procid.parse().ok();
    // A relay that rewrote an RFC 3164 line as RFC 5424 (rsyslog's
    // `RSYSLOG_SyslogProtocol23Format`) leaves the blank after the tag and,
    // when the tag was Luna's `NTLS [8508]:`, the pid in the message.
    let mut i = skip_ws(i);
    if pid.is_none() {
        if let Ok((rest, p)) = delimited(
            char::<&str, nom::error::Error<&str>>('['),
            num::<u32>(1, 10),
            tag("]:"),
        )
        .parse(i)
        {
            pid = Some(p);
            i = skip_ws(rest);
        }
    }
    let header = Header {
        stamp,
        host: nil_or(host),
        program: nil_or(app),
        pid,
        msg_start: 0,
    };
    Ok((i, header))
}

/// Whether the text after a time starts with a word that is never a host name:
/// an application log's level (`ERROR`, `INFO` ...) or tcpdump's protocol
/// (`IP`, `IP6`).
fn starts_with_non_host(i: &str) -> bool {
    const WORDS: &[&str] = &[
        "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL", "IP",
        "IP6",
    ];
    let word = i
        .split(|c: char| c.is_whitespace() || c == ':' || c == ']')
        .next()
        .unwrap_or("")
        .trim_start_matches('[');
    WORDS.contains(&word)
}

/// Parses the header of one message. Text with no header gives a header with
/// no fields and `msg_start == 0`.
pub fn parse_header(line: &str) -> Header<'_> {
    let at = |rest: &str| line.len() - rest.len();
    let mut h = Header::default();
    let mut i = line;
    // <PRI>
    let had_pri = if let Ok((rest, _)) = pri(i) {
        i = rest;
        true
    } else {
        false
    };
    if had_pri {
        if let Ok((rest, mut h)) = rfc5424(i) {
            h.msg_start = at(rest);
            return h;
        }
    }
    // Timestamp in one of the three forms.
    let stamped = if let Ok((rest, s)) = luna_stamp(i) {
        Some((rest, s))
    } else if let Ok((rest, s)) = iso_stamp(i) {
        Some((rest, s))
    } else if let Ok((rest, (month, day, time))) = bsd_stamp(i) {
        Some((rest, Stamp::YearLess { month, day, time }))
    } else {
        None
    };
    if let Some((rest, stamp)) = stamped {
        h.stamp = Some(stamp);
        i = skip_ws(rest);
        // HOST, unless the tag, an application log's level or tcpdump's protocol
        // follows the time directly.
        if program_tag(i).is_err() && !i.starts_with('[') && !starts_with_non_host(i) {
            if let Ok((rest, host)) = hostname(i) {
                h.host = Some(host);
                i = skip_ws(rest);
            }
        }
        if let Ok((rest, ())) = facility_severity(i) {
            i = skip_ws(rest);
        }
        if let Ok((rest, (name, pid))) = program_tag(i) {
            h.program = Some(name);
            h.pid = pid;
            i = skip_ws(rest);
        } else if h.host.is_some() {
            if let Ok((rest, (name, pid))) = bare_program_pid(i) {
                h.program = Some(name);
                h.pid = Some(pid);
                i = skip_ws(rest);
            }
        }
        h.msg_start = at(i);
        return h;
    }
    // A bare tag with a pid (`NTLS[8508]: ...`): a line pasted without its header.
    if let Ok((rest, (name, Some(pid)))) = program_tag(skip_ws(i)) {
        h.program = Some(name);
        h.pid = Some(pid);
        h.msg_start = at(skip_ws(rest));
        return h;
    }
    h.msg_start = at(i);
    h
}

/// A further `TAG[pid]:` inside a message: where a run-together copy-paste put
/// the next message.
static NEXT_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s[A-Za-z][\w.\-/]* ?\[\d{1,10}\]: ?").expect("static regex is valid")
});

/// The next `(Code) Message` that the Azure CLI's error layout starts on the
/// same line as the previous error's last line, after a tab.
static NEXT_ARM_ERROR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\t\([A-Za-z][\w.]*\) ").expect("static regex is valid"));

/// A syslog header left at the end of the previous segment when a copy-paste
/// ran two full log lines together.
static TRAILING_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)\s(?:
            (?:\d{4}\ )?[A-Z][a-z]{2}\ +\d{1,2}\ \d\d:\d\d:\d\d(?:\.\d+)?
          | \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?
        )
        (?:\ +[A-Za-z0-9][\w.\-]*)?                          # host
        (?:\ +(?:kern|user|mail|daemon|auth|authpriv|syslog|cron|local[0-7])\ +[a-z]+)?
        \ *$",
    )
    .expect("static regex is valid")
});

/// Splits a line into the byte ranges of the messages it holds. A normal line
/// is one segment; a line where a copy-paste ran several messages together is
/// cut before each further `TAG[pid]:` (and before the header in front of it).
pub fn segments(line: &str, header: &Header<'_>) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    // The Azure CLI prints sibling errors of `Exception Details:` without a line
    // break: `\tTarget: /subscriptions/...\t(ResourceDeploymentFailure) ...`.
    if header.program.is_none() && line.contains("\t(") {
        let mut start = 0;
        for m in NEXT_ARM_ERROR.find_iter(line) {
            // Not the `Exception Details:\t(Code)` that opens a line's own error.
            let before = line[start..m.start()].trim();
            if before.is_empty() || before.ends_with("Exception Details:") {
                continue;
            }
            out.push(start..m.start());
            start = m.start() + 1;
        }
        out.push(start..line.len());
        return out;
    }
    // A further tag always ends in `]:` (a line collapsed from several may lose
    // the space after it); most lines have none, and the check is a plain
    // substring search.
    if header.program.is_none() || header.pid.is_none() || !line[header.msg_start..].contains("]:")
    {
        out.push(0..line.len());
        return out;
    }
    let mut start = 0;
    let mut search_from = header.msg_start;
    while let Some(m) = NEXT_TAG.find_at(line, search_from) {
        let mut cut = m.start();
        if let Some(h) = TRAILING_HEADER.find(&line[start..cut]) {
            cut = start + h.start();
        }
        if cut > start {
            out.push(start..cut);
            start = cut + line[cut..].len() - line[cut..].trim_start().len();
        }
        search_from = m.end();
    }
    out.push(start..line.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luna_format() {
        let l =
            "2012 Feb 29 12:05:01 myLuna  local5 info  NTLS [1234]: info : 0 : NTLS starting up";
        let h = parse_header(l);
        assert_eq!(h.host, Some("myLuna"));
        assert_eq!(h.program, Some("NTLS"));
        assert_eq!(h.pid, Some(1234));
        assert_eq!(&l[h.msg_start..], "info : 0 : NTLS starting up");
        assert!(matches!(h.stamp, Some(Stamp::Local(t)) if t.to_string() == "2012-02-29 12:05:01"));
    }

    #[test]
    fn rfc3164_yearless() {
        let l = "<134>Mar  1 10:00:00 hsm1 NTLS[8508]: info : 0 : x";
        let h = parse_header(l);
        assert_eq!(h.host, Some("hsm1"));
        assert_eq!(h.program, Some("NTLS"));
        assert!(matches!(
            h.stamp,
            Some(Stamp::YearLess {
                month: 3,
                day: 1,
                ..
            })
        ));
        assert_eq!(&l[h.msg_start..], "info : 0 : x");
    }

    #[test]
    fn rfc5424() {
        let l = r#"<134>1 2026-03-01T10:00:00.123Z hsm1 NTLS 8508 - [meta a="x\]y"] info : 0 : x"#;
        let h = parse_header(l);
        assert_eq!(h.host, Some("hsm1"));
        assert_eq!(h.pid, Some(8508));
        assert_eq!(&l[h.msg_start..], "info : 0 : x");
        assert!(matches!(h.stamp, Some(Stamp::Zoned(_))));
    }

    #[test]
    fn iso_forwarded() {
        let l = "2026-03-01T10:00:00+01:00 hsm1 NTLS[8508]: msg";
        let h = parse_header(l);
        assert_eq!(h.host, Some("hsm1"));
        assert_eq!(&l[h.msg_start..], "msg");
    }

    #[test]
    fn rsyslog_file_format_of_rfc5424() {
        // What rsyslog's RSYSLOG_FileFormat makes of `<174>1 ... hsm2 NTLS 1874 - - msg`.
        let l = "2026-04-12T22:14:03.415Z hsm2 NTLS[1874] Error during SSL accept ( RC_SSL_ERROR )";
        let h = parse_header(l);
        assert_eq!(h.host, Some("hsm2"));
        assert_eq!(h.program, Some("NTLS"));
        assert_eq!(h.pid, Some(1874));
        assert_eq!(
            &l[h.msg_start..],
            "Error during SSL accept ( RC_SSL_ERROR )"
        );
        // Without a host the same shape is not taken for a tag.
        let h = parse_header("2026-04-12T22:14:03Z word[3] rest");
        assert_eq!(h.program, None);
    }

    #[test]
    fn rsyslog_protocol23_of_luna_tag() {
        // RSYSLOG_SyslogProtocol23Format of `<174>Mar  1 10:05:00 hsm1 NTLS [2490]: info : 0 : x`.
        let l = "<174>1 2026-03-01T10:05:00+00:00 hsm1 NTLS - - -  [2490]: info : 0 : x";
        let h = parse_header(l);
        assert_eq!(h.program, Some("NTLS"));
        assert_eq!(h.pid, Some(2490));
        assert_eq!(&l[h.msg_start..], "info : 0 : x");
        let l = "<174>1 2026-03-01T10:05:00+00:00 hsm1 NTLS 2490 - -  Error during SSL accept";
        assert_eq!(&l[parse_header(l).msg_start..], "Error during SSL accept");
    }

    #[test]
    fn run_together_article_example() {
        let l = "NTLS[8508]: info : 0 : Incoming connection request... : 192.168.50.2/59415 NTLS[8508]: Error message from SSLAccept is : x NTLS[8508]: Error during SSL accept ( RC_SSL_ERROR )";
        let h = parse_header(l);
        let s = segments(l, &h);
        assert_eq!(s.len(), 3);
        assert!(l[s[1].clone()].starts_with("NTLS[8508]: Error message"));
        assert!(l[s[0].clone()].ends_with("59415"));
    }

    #[test]
    fn run_together_full_lines() {
        let l = "2012 Feb 29 12:05:01 myLuna local5 info NTLS[1]: a 2012 Feb 29 12:05:02 myLuna local5 info NTLS[1]: b";
        let h = parse_header(l);
        let s = segments(l, &h);
        assert_eq!(s.len(), 2);
        assert_eq!(
            &l[s[1].clone()],
            "2012 Feb 29 12:05:02 myLuna local5 info NTLS[1]: b"
        );
    }

    #[test]
    fn no_header() {
        let h =
            parse_header("nc: connect to 10.0.0.4 port 1792 (tcp) failed: Connection timed out");
        assert_eq!(h.program, None);
        assert_eq!(h.msg_start, 0);
    }
}
