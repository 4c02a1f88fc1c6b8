//! The bound on what an engine holds: at most [`MAX_SUBJECTS_PER_RULE`]
//! distinct subjects of one rule are kept in full (their evidence, their
//! values for the steps). Hits about further subjects are only tallied — how
//! often, when, and about how many distinct subjects (a HyperLogLog sketch,
//! 16 KiB, about 0.8 % standard error) — so that memory stays flat however
//! many clients fail, and the report still says how many there were.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Distinct subjects of one rule kept in full by one engine; further ones are
/// counted in an [`Omitted`] tally.
pub const MAX_SUBJECTS_PER_RULE: usize = 1000;

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
        self.first_seen = super::min_opt(self.first_seen, time);
        self.last_seen = super::max_opt(self.last_seen, time);
    }

    /// Sets `subjects` from the sketch.
    pub(crate) fn settle(&mut self) {
        self.subjects = self.distinct.estimate();
    }

    pub(crate) fn absorb(&mut self, other: &Omitted) {
        self.distinct.merge(&other.distinct);
        self.subjects = self.distinct.estimate();
        self.occurrences += other.occurrences;
        self.first_seen = super::min_opt(self.first_seen, other.first_seen);
        self.last_seen = super::max_opt(self.last_seen, other.last_seen);
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
