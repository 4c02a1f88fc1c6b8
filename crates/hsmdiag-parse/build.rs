//! Embeds the grammar catalogues: every `*.toml` in the workspace's
//! `grammars/formats/`, sorted by name. Being in the folder is what registers
//! a catalogue.

include!("../build/embed.rs");

fn main() {
    embed("grammars/formats", "formats.rs");
}
