//! Embeds the knowledge base: every `*.toml` in the workspace's
//! `grammars/kb/`, sorted by name. Being in the folder is what registers a
//! rule.

include!("../build/embed.rs");

fn main() {
    embed("grammars/kb", "kb.rs");
}
