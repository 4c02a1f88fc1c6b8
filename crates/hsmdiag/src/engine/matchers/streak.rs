//! Consecutive failures per key up to a limit (`kind = "streak"`): a success
//! resets the count, the device's own count of tries left is followed when a
//! line shows it, and the severity rises as the tries run out.

use std::collections::HashMap;

use super::super::{Fed, Hit, Matched, StreakState, key_of};
use crate::event::Value;
use crate::kb::{MatchSpec, Matcher};

/// Feeds one event to a streak matcher.
pub(in crate::engine) fn step(
    (ri, si): (usize, usize),
    spec: &MatchSpec,
    map: &mut HashMap<String, u32>,
    ev: &Fed<'_>,
    hits: &mut Vec<Hit>,
) {
    let Matcher::Streak {
        cond,
        reset,
        observe,
        limit,
        left_field,
        escalate,
        at_limit,
    } = &spec.matcher
    else {
        return;
    };
    if let Some(r) = reset.as_ref().filter(|r| r.matches(ev)) {
        if map.remove(&key_of(spec, ev)).is_some_and(|n| n > 0) {
            // Tell the finding the streak ended well.
            hits.push(ended((ri, si), Matched::new(ev, r), *limit));
        }
        return;
    }
    // The device's own count of tries left, when this event shows it.
    let reported = left_field
        .as_deref()
        .and_then(|f| ev.value(f))
        .and_then(|v| match v {
            Value::Int(i) => u32::try_from(i).ok(),
            v => v.to_string().trim().parse().ok(),
        });
    let observed = observe.as_ref().filter(|o| o.matches(ev));
    let failed = cond.matches(ev);
    if observed.is_none() && !failed {
        return;
    }
    let key = key_of(spec, ev);
    let (failures, left) = if failed {
        let n = map.entry(key.clone()).or_insert(0);
        *n += 1;
        let left = reported.unwrap_or(limit.saturating_sub(*n));
        // Keep our count in step with the device's.
        *n = (*n).max(limit.saturating_sub(left));
        (*n, left)
    } else {
        // `hsm show` and the like: the count as the device keeps it.
        let left = reported.unwrap_or(*limit).min(*limit);
        let used = limit - left;
        if used == 0 {
            // Back at the maximum (a good login since): the streak is over,
            // and the finding the failures made learns it.
            if map.remove(&key).is_some_and(|n| n > 0) {
                hits.push(ended(
                    (ri, si),
                    Matched::new(ev, observed.unwrap_or(cond)),
                    *limit,
                ));
            }
            return;
        }
        map.insert(key.clone(), used);
        (used, left)
    };
    if left == 0 {
        // The damage is done; the count starts again.
        map.remove(&key);
    }
    if *at_limit != (left == 0) {
        return;
    }
    let severity = escalate
        .iter()
        .find(|(at, _)| left <= *at)
        .map(|(_, sev)| *sev);
    let matched_by = observed.unwrap_or(cond);
    hits.push(Hit {
        rule: ri,
        spec: si,
        events: vec![Matched::new(ev, matched_by)],
        weight: 1,
        streak: Some(StreakState {
            failures,
            left,
            limit: *limit,
            severity,
            reset: false,
        }),
    });
}

/// The hit that tells a streak's finding the streak is over (a good login,
/// or the device's count back at the maximum).
fn ended((ri, si): (usize, usize), m: Matched, limit: u32) -> Hit {
    Hit {
        rule: ri,
        spec: si,
        events: vec![m],
        weight: 0,
        streak: Some(StreakState {
            failures: 0,
            left: limit,
            limit,
            severity: None,
            reset: true,
        }),
    }
}
