//! Embeds the knowledge base: every `*.toml` in `data/kb/` (a link to the
//! workspace's `grammars/kb/`), sorted by name. Being in the folder is what
//! registers a rule.

include!("embed.rs");

fn main() {
    embed("data/kb", "kb.rs");
}
