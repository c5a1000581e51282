//! The query layer: every read a user makes (a page, a download, a SQL query) goes through
//! [`QueryLayer`], a DataFusion session over the lake's Delta tables.
//!
//! # Layout
//! - [`access`]: who reads ([`access::Principal`]: a role and a scope) and the session of
//!   its own each one queries through, holding only what it may read, filtered to its scope.
//! - [`accounts`]: the cockpit's accounts, sessions, sign-in throttling and audit log (SQLite
//!   in the state directory, never the lake): what makes a principal of someone signing in,
//!   with its own error ([`accounts::AccountError`]); the audit log read only by the
//!   administrator's principal.
//! - [`error`]: [`TransformError`], whose variants say whose fault a failure is.
//! - [`bounded`]: what a query someone typed may cost (text, depth, memory, time) and the
//!   checks that hold it to that.
//! - [`views`]: the tables a user sees: each dataset's current view ("later upload wins"),
//!   its raw table with every ingested row, the exception registers as sent, attendance as
//!   the indicators count it (`attendance_rows`, `class_days`), and `batches`.
//! - [`indicators`]: every indicator of INDICATORS.md, one SQL file each under
//!   `transform/indicators/`, the helpers they share (`_*.sql`: the roster in force, the rows
//!   an exception register implies, which shape of a class-day's report wins), and the
//!   wrapper that exports one at a level, grain and range (`indicators::sql`); the alerts
//!   (cluster, follow-up); `indicators::suppress`, the cells hidden from readers outside the
//!   bureau, decided once per indicator and scope over every level, split and period (read
//!   and kept by [`QueryLayer`] in `views::families`); [`indicators::Filters`], rows kept by
//!   school type, grade or gender, added up from the cells in `views::filtered`.
//! - [`marts`]: the tables `edulake build` keeps in the lake ahead of time (current views,
//!   the registers compacted, the helpers several indicators share (`attendance_rows`,
//!   `health_ids`, `class_report_days`, `class_days`), and indicator rows at day grain), when
//!   they are fresh, and the incremental build stage by stage.
//! - [`lake`]: transform's own read handle on the lake ([`Lake`]): tables and the batch index
//!   as they are now, read forward from what was read before; it writes only the marts.
//! - `registry`: each lake table registered in a session (text read as compact strings,
//!   older tables given new columns), the batch index as a table, what the raw tables hold.
//! - [`shapes`]: which shape of report (rows, register, class or school report) each school's
//!   days were counted from.
//! - [`udf`]: SQL functions edulake adds (`local_date`).
//! - [`reads`]: the typed reads of the pages and commands over a [`reads::Scope`] (schools,
//!   who has not reported, the map and its districts' boundaries, batches, files rejected
//!   whole, shapes): the SQL the cockpit needs, here.
//! - [`output`]: results as a text table, CSV, JSON, Parquet or XLSX.

pub mod access;
pub mod accounts;
pub mod bounded;
pub mod error;
pub mod indicators;
pub mod lake;
pub mod marts;
pub mod output;
pub mod reads;
mod registry;
pub mod shapes;
pub mod udf;
pub mod views;

pub use error::{Result, TransformError};
pub use lake::Lake;
pub use views::QueryLayer;
