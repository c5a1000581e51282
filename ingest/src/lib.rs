//! Ingest: school extracts in, validated and pseudonymised Delta tables out.
//!
//! A file goes through four steps, each in its own module:
//! 1. [`read`] sniffs the format and encoding and yields rows of text cells (text, JSON
//!    lines, workbooks, HTML tables named `.xls`, XML record lists and Ed-Fi interchanges,
//!    OneRoster bundles), or names what a file it does not read looks like;
//! 2. [`clean`] finds the header, maps it to the dataset of `edulake-schemas` (by a
//!    [`profile`]'s names and meanings when one reads the file), parses and validates every
//!    cell ([`values`]), pseudonymises people ([`pseudo`]) and rejects bad rows alone;
//! 3. [`pipeline`] chooses each file's profile from its first rows, runs files in parallel,
//!    keeps their order, skips files already ingested and writes reject reports and the log of
//!    files rejected whole into the state directory ([`state`]) — or, in a dry run, says what
//!    each file would become and writes nothing;
//! 4. [`lake`] commits each file's rows and batch record atomically to the dataset's Delta
//!    table and indexes the batch in `_batches`.
//!
//! Everything ingest says about a file or a row is a message of the one catalogue
//! (`edulake_schemas::words::Msg`: a key and its arguments), rendered in the reader's language
//! where it is read.
//!
//! # Layout
//! - [`error`]: [`IngestError`], whose variants say whose fault a failure is.
//! - [`generate`]: a synthetic district written as the files schools send.
//! - [`limits`]: what one file may hold (rows, columns, cells, unpacked bytes).
//! - [`profile`]: platform exports described as data (TOML): the built-in profiles and a
//!   bureau's own, and which one a file gets.
//! - [`progress`]: how far an ingest has got (bytes and rows read), for a progress bar.
//! - [`pull`]: sources polled for extracts (a folder), each with the cursor of what it has
//!   taken and a lock so one pull of it runs at a time.

pub mod clean;
pub mod error;
pub mod generate;
pub mod lake;
pub mod limits;
pub mod pipeline;
pub mod profile;
pub mod progress;
pub mod pseudo;
pub mod pull;
pub mod read;
pub mod state;
pub mod values;

pub use clean::{Reject, Upload};
pub use error::{IngestError, Result};
pub use lake::{BatchRecord, Fault, Lake};
pub use pipeline::{ingest, FileOutcome, IngestOptions, Outcome, Preview};
pub use progress::Progress;
pub use pseudo::Key;
pub use state::{KeyOrigin, StateDir};

/// The bureau's time zone: `EDULAKE_TZ`, default `Asia/Shanghai`.
pub fn bureau_tz() -> Result<chrono_tz::Tz> {
    edulake_schemas::lake::bureau_tz()
        .map_err(|name| IngestError::Config(format!("EDULAKE_TZ '{name}' is not a time zone name")))
}
