//! The one error type of this crate, saying whose fault a failure is.

/// Why a query could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The query is at fault: bad SQL, an unknown table or column, or a write attempted
    /// through the read-only query layer.
    #[error("query: {0}")]
    BadQuery(String),

    /// The query asked for more than edulake allows one query (memory, time, a value's
    /// size): the message names the limit.
    #[error("query: {0}")]
    TooBig(String),

    /// Another writer changed a table while this one wrote it: try again.
    #[error("busy: {0}")]
    Busy(String),

    /// The lake could not be read.
    #[error("lake: {0}")]
    Lake(String),

    /// The operator's setting is wrong: a lake that is not there, a time zone that is not one.
    #[error("{0}")]
    Config(String),

    /// The answer could not be written: its reader went away (a closed pipe) or its file
    /// would not take it (a full disk).
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),

    /// A bug in edulake.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<deltalake::DeltaTableError> for TransformError {
    fn from(e: deltalake::DeltaTableError) -> Self {
        TransformError::Lake(e.to_string())
    }
}

impl From<datafusion::error::DataFusionError> for TransformError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        use datafusion::error::DataFusionError as E;
        // A limit reached deep in a plan comes wrapped (in an Arrow error, a shared error).
        if let E::ResourcesExhausted(msg) = e.find_root() {
            return TransformError::TooBig(format!(
                "the query needs more than edulake allows ({msg}); narrow it, or raise EDULAKE_MEMORY_MB"
            ));
        }
        match e {
            E::SQL(..) | E::Plan(_) | E::SchemaError(..) | E::NotImplemented(_) => {
                TransformError::BadQuery(e.to_string())
            }
            // The planner wraps its errors with what it knows of where they are.
            E::Context(_, inner) | E::Diagnostic(_, inner) => (*inner).into(),
            E::ObjectStore(_) | E::IoError(_) => TransformError::Lake(e.to_string()),
            other => TransformError::Internal(other.to_string()),
        }
    }
}

impl From<arrow::error::ArrowError> for TransformError {
    fn from(e: arrow::error::ArrowError) -> Self {
        match e {
            // A CSV or JSON writer's output failing is the output's fault, not a bug.
            arrow::error::ArrowError::IoError(_, io) => TransformError::Output(io),
            other => TransformError::Internal(other.to_string()),
        }
    }
}

pub type Result<T, E = TransformError> = std::result::Result<T, E>;
