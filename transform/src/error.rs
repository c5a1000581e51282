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
        // A data file gone while it was read: a build (of another process) replaced a table's
        // files after this session read its log. A read of the tables as they are now works.
        if lost_file(&e) {
            return TransformError::Busy(format!(
                "the lake changed while it was read (a build replaced the files): try again ({e})"
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

/// Whether an error is, at its root, a file not found in the object store.
fn lost_file(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut at: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = at {
        if let Some(object_store::Error::NotFound { .. }) =
            err.downcast_ref::<object_store::Error>()
        {
            return true;
        }
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
        {
            return true;
        }
        at = err.source();
    }
    false
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::error::DataFusionError;

    fn gone() -> object_store::Error {
        object_store::Error::NotFound {
            path: "mart_attendance_rate/part-1.parquet".into(),
            source: "No such file or directory".into(),
        }
    }

    #[test]
    fn a_file_gone_under_a_read_is_busy_not_a_bug() {
        let direct = DataFusionError::ObjectStore(Box::new(gone()));
        assert!(matches!(
            TransformError::from(direct),
            TransformError::Busy(_)
        ));
        // As a Parquet read wraps it.
        let wrapped = DataFusionError::ParquetError(Box::new(
            parquet::errors::ParquetError::External(Box::new(gone())),
        ));
        assert!(matches!(
            TransformError::from(wrapped),
            TransformError::Busy(_)
        ));
        // Any other failure of the store stays the lake's.
        let other = DataFusionError::ObjectStore(Box::new(object_store::Error::Generic {
            store: "s3",
            source: "timeout".into(),
        }));
        assert!(matches!(
            TransformError::from(other),
            TransformError::Lake(_)
        ));
    }
}
