//! The query layer: every read a user makes (a page, a download, a SQL query) goes through
//! [`QueryLayer`], a DataFusion session over the lake's Delta tables.
//!
//! # Layout
//! - [`error`]: [`TransformError`], whose variants say whose fault a failure is.
//! - [`views`]: the tables a user sees: each dataset's current view ("later upload wins"),
//!   its raw table with every ingested row, and `batches`.
//! - [`output`]: query results as a text table, CSV or JSON lines.

pub mod error;
pub mod output;
pub mod views;

pub use error::{Result, TransformError};
pub use views::QueryLayer;
