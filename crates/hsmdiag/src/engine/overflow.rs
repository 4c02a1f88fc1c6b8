//! The bound on what an engine holds: at most [`MAX_SUBJECTS_PER_RULE`]
//! distinct subjects of one rule are kept in full (their evidence, their
//! values for the steps). Hits about further subjects are only tallied — how
//! often, when, and about how many distinct subjects (a HyperLogLog sketch,
//! 16 KiB, about 0.8 % standard error) — so that memory stays flat however
//! many clients fail, and the report still says how many there were.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Distinct subjects of one group of a rule (its host, and for a grouped
/// rule its cause) kept in full by one engine; further ones are counted in an
/// [`Omitted`] tally. A rule holds at most eight times this over all its
/// groups, but the first subject of a new group is always held, so another
/// host's or cause's finding is never hidden by a flood on one.
pub const MAX_SUBJECTS_PER_RULE: usize = 1000;

/// Groups (hosts, causes) per rule, on average, that get a finding of their
/// own past the bound: beyond them even a new group's hits are tallied, so
/// memory stays bounded whatever an input holds.
pub const MAX_GROUPS_PER_RULE: usize = 10_000;

const P: u32 = 14;
const M: usize = 1 << P;

/// A HyperLogLog sketch of distinct values.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Distinct(Box<[u8; M]>);

impl std::fmt::Debug for Distinct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Distinct(~{})", self.estimate())
    }
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct(Box::new([0; M]))
    }
}

impl Distinct {
    pub(crate) fn insert(&mut self, value: &str) {
        // SipHash with fixed keys: the same value, the same register, in
        // every run and every engine (so sketches merge).
        let mut h = std::hash::DefaultHasher::new();
        value.hash(&mut h);
        let x = h.finish();
        let j = (x >> (64 - P)) as usize;
        let rest = (x << P) | (1 << (P - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if rank > self.0[j] {
            self.0[j] = rank;
        }
    }

    pub(crate) fn merge(&mut self, other: &Distinct) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a = (*a).max(*b);
        }
    }

    /// The estimated number of distinct values (linear counting while the
    /// sketch is sparse, where it is exact in practice for small counts).
    pub(crate) fn estimate(&self) -> u64 {
        let m = M as f64;
        let zeros = self.0.iter().filter(|r| **r == 0).count();
        let sum: f64 = self.0.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let e = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        e.round() as u64
    }
}

/// The hits of one rule about subjects beyond [`MAX_SUBJECTS_PER_RULE`]: for
/// a rule that groups its findings (clients of one HSM), one tally per group
/// and window, folded into that group's finding; otherwise listed in the
/// report's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[non_exhaustive]
pub struct Omitted {
    /// The rule's id.
    pub id: String,
    /// The rule's code.
    pub code: String,
    /// About how many distinct subjects were left out.
    pub subjects: u64,
    /// How many occurrences they had.
    pub occurrences: u64,
    /// The first and last time among them.
    pub first_seen: Option<DateTime<Utc>>,
    /// See `first_seen`.
    pub last_seen: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub(crate) rule: usize,
    /// The values of the rule's group fields (`host`), empty for a rule
    /// without a group.
    #[serde(skip)]
    pub(crate) by: Vec<Option<String>>,
    #[serde(skip)]
    pub(crate) distinct: Distinct,
}

impl Omitted {
    pub(crate) fn new(rule: usize, id: &str, code: &str, by: Vec<Option<String>>) -> Self {
        Omitted {
            id: id.to_owned(),
            code: code.to_owned(),
            subjects: 0,
            occurrences: 0,
            first_seen: None,
            last_seen: None,
            rule,
            by,
            distinct: Distinct::default(),
        }
    }

    pub(crate) fn add(&mut self, subject: &str, weight: u64, time: Option<DateTime<Utc>>) {
        // Estimated when the tallies are read (`settle`), not at every hit.
        self.distinct.insert(subject);
        self.occurrences += weight;
        self.first_seen = min_opt(self.first_seen, time);
        self.last_seen = max_opt(self.last_seen, time);
    }

    /// Sets `subjects` from the sketch.
    pub(crate) fn settle(&mut self) {
        self.subjects = self.distinct.estimate();
    }

    pub(crate) fn absorb(&mut self, other: &Omitted) {
        self.distinct.merge(&other.distinct);
        self.subjects = self.distinct.estimate();
        self.occurrences += other.occurrences;
        self.first_seen = min_opt(self.first_seen, other.first_seen);
        self.last_seen = max_opt(self.last_seen, other.last_seen);
    }
}

/// The earlier of two times, either of which may be missing.
pub(super) fn min_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The later of two times, either of which may be missing.
pub(super) fn max_opt(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::Distinct;

    #[test]
    fn counts_distinct_values_closely() {
        for n in [1u64, 10, 1000, 100_000] {
            let mut d = Distinct::default();
            for i in 0..n {
                d.insert(&format!(
                    "10.{}.{}.{}",
                    i >> 16 & 255,
                    i >> 8 & 255,
                    i & 255
                ));
                // Seen again: not counted twice.
                d.insert(&format!(
                    "10.{}.{}.{}",
                    i >> 16 & 255,
                    i >> 8 & 255,
                    i & 255
                ));
            }
            let e = d.estimate() as f64;
            assert!(
                (e - n as f64).abs() <= (n as f64 * 0.03).max(1.0),
                "{n}: {e}"
            );
        }
    }
}

/// Distinct values seen exactly, up to this many; past it, a Bloom filter.
pub(crate) const MAX_EXACT_DISTINCT: usize = 4096;

/// Bits of the Bloom filter past [`MAX_EXACT_DISTINCT`] (128 KiB).
const BLOOM_BITS: usize = 1 << 20;

/// The values of a count's `distinct` field already counted, in bounded
/// memory: their hashes exactly up to [`MAX_EXACT_DISTINCT`], then a Bloom
/// filter of 128 KiB (three hashes), which may take a new value for one seen
/// (the count then runs a little low, never high) but never grows.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    exact: std::collections::HashSet<u64>,
    bloom: Option<Box<[u64]>>,
}

impl Seen {
    /// Whether the value is new (and records it).
    pub(crate) fn insert(&mut self, value: &str) -> bool {
        let mut h = std::hash::DefaultHasher::new();
        value.hash(&mut h);
        let x = h.finish();
        if let Some(bloom) = &mut self.bloom {
            return bloom_insert(bloom, x);
        }
        if !self.exact.insert(x) {
            return false;
        }
        if self.exact.len() > MAX_EXACT_DISTINCT {
            let mut bloom = vec![0u64; BLOOM_BITS / 64].into_boxed_slice();
            for v in self.exact.drain() {
                bloom_insert(&mut bloom, v);
            }
            self.exact = std::collections::HashSet::new();
            self.bloom = Some(bloom);
        }
        true
    }
}

/// Sets the three bits of `x`; whether any was unset (a new value).
fn bloom_insert(bloom: &mut [u64], x: u64) -> bool {
    let mut new = false;
    for k in 0..3u32 {
        let bit = (x.rotate_left(k * 21) as usize) % BLOOM_BITS;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        new |= bloom[word] & mask == 0;
        bloom[word] |= mask;
    }
    new
}

#[cfg(test)]
mod seen_tests {
    use super::{MAX_EXACT_DISTINCT, Seen};

    #[test]
    fn distinct_values_are_counted_in_bounded_memory() {
        let mut s = Seen::default();
        assert!(s.insert("a") && !s.insert("a"));
        let mut new = 1;
        for i in 0..200_000 {
            new += usize::from(s.insert(&format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255)));
        }
        // Exact up to the cap, then the filter: a little low, never high.
        assert!(new <= 200_001 && new > 185_000, "{new}");
        assert!(s.exact.is_empty() && s.bloom.is_some());
        assert!(!s.insert("a"), "seen before the switch, still seen");
        let mut small = Seen::default();
        for i in 0..MAX_EXACT_DISTINCT {
            assert!(small.insert(&i.to_string()));
        }
        assert!(small.bloom.is_none(), "exact up to the cap");
    }
}
