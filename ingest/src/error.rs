//! The one error type of this crate, saying whose fault a failure is.

use std::path::PathBuf;

use edulake_schemas::words::Msg;

/// Why an ingest could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input is at fault: a file that cannot be read as a table, lacks a required column,
    /// or belongs to another dataset. The whole file is rejected; nothing of it is stored.
    #[error("{}: {problem}", file.display())]
    BadFile { file: PathBuf, problem: Msg },

    /// The caller's configuration is at fault: an unknown dataset, a bad lake URL, a missing
    /// or malformed key.
    #[error("configuration: {0}")]
    Config(String),

    /// The lake or the state directory failed (I/O, object store, Delta log).
    #[error("lake: {0}")]
    Lake(String),

    /// A bug in edulake or an injected fault.
    #[error("internal: {0}")]
    Internal(String),
}

impl IngestError {
    pub fn bad_file(file: impl Into<PathBuf>, problem: Msg) -> Self {
        IngestError::BadFile {
            file: file.into(),
            problem,
        }
    }
}

impl From<deltalake::DeltaTableError> for IngestError {
    fn from(e: deltalake::DeltaTableError) -> Self {
        IngestError::Lake(e.to_string())
    }
}

impl From<arrow::error::ArrowError> for IngestError {
    fn from(e: arrow::error::ArrowError) -> Self {
        IngestError::Internal(format!("arrow: {e}"))
    }
}

impl From<object_store::Error> for IngestError {
    fn from(e: object_store::Error) -> Self {
        IngestError::Lake(e.to_string())
    }
}

pub type Result<T, E = IngestError> = std::result::Result<T, E>;
