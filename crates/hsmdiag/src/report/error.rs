//! Why a report could not be written.

/// Why a report could not be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum RenderError {
    /// Writing to the output failed (a closed pipe, a full disk).
    #[error("cannot write the report: {0}")]
    #[diagnostic(code(hsmdiag::render::io))]
    Io(#[from] std::io::Error),
    /// The report could not be serialised.
    #[error("cannot serialise the report: {0}")]
    #[diagnostic(code(hsmdiag::render::json))]
    Json(#[from] serde_json::Error),
}

impl RenderError {
    /// Whether the reader went away (a closed pipe), which ends the run quietly.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            RenderError::Io(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
            RenderError::Json(e) => e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe),
        }
    }
}
