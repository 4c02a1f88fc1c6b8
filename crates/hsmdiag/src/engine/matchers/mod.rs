//! The matcher kinds, one file each; the engine's dispatcher hands each event
//! to the matcher of every rule that reads its kind. A single event needs no
//! state and is matched in the dispatcher itself.

pub(super) mod absence;
pub(super) mod count;
pub(super) mod sequence;
pub(super) mod streak;
