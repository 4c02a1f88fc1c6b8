//! The built-in grammar files, embedded at build time.

/// The built-in grammar files, embedded at build time: (file name, text).
/// (Used by the fuzz targets and the knowledge base's tidy.)
pub const BUILTIN_FORMATS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/formats.rs"));
