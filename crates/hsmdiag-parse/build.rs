//! Embeds the grammar catalogues: every `*.toml` in `data/formats/` (a link
//! to the workspace's `grammars/formats/`), sorted by name. Being in the
//! folder is what registers a catalogue.

include!("embed.rs");

fn main() {
    embed("data/formats", "formats.rs");
}
