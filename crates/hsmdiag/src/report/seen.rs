//! How often and when a finding was seen, in the words every report uses.

/// How often and when a finding was seen, as every report says it: "seen
/// once, at T", "seen 3 times, from A to B" — to the second, so a finding
/// whose events share a second has one time — and, without times, "(the log
/// has no times)", or nothing about times for a template's (`lint`).
/// On the reference clock when the finding's input runs off it (`skew`, the
/// report's `clock_skew`): the times its cause → effect chain uses, labelled so.
pub(crate) fn seen_phrase(f: &crate::Finding, skew: &[crate::correlate::ClockSkew]) -> String {
    let times = if f.count == 1 {
        "once".to_owned()
    } else {
        format!("{} times", f.count)
    };
    let off = f
        .evidence
        .first()
        .and_then(|e| skew.iter().find(|s| s.source == e.source))
        .map_or(0, |s| s.offset_ms);
    let shift = |t: chrono::DateTime<chrono::Utc>| t - chrono::TimeDelta::milliseconds(off);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let label = if off == 0 {
        String::new()
    } else {
        format!(
            " (reference clock: this input's clock runs {} s {})",
            off.abs() / 1000,
            if off > 0 { "ahead" } else { "behind" }
        )
    };
    match (
        f.first_seen.map(shift).map(fmt),
        f.last_seen.map(shift).map(fmt),
    ) {
        (Some(a), Some(b)) if a != b => format!("seen {times}, from {a} to {b}{label}"),
        (Some(a), _) => format!("seen {times}, at {a}{label}"),
        _ if f.id.starts_with("lint.") => format!("seen {times}"),
        _ => format!("seen {times} (the log has no times)"),
    }
}

/// When a finding was seen, as a sentence, on the reference clock of the
/// report's `skew` (the one its cause → effect chain uses).
pub(crate) fn seen_sentence(f: &crate::Finding, skew: &[crate::correlate::ClockSkew]) -> String {
    let p = seen_phrase(f, skew);
    let mut c = p.chars();
    c.next()
        .map(|first| first.to_uppercase().collect::<String>() + c.as_str() + ".")
        .unwrap_or_default()
}
