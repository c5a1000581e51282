//! The one integration-test binary: every test of edulake that crosses a crate or runs the
//! real `edulake` binary, a real Python reader, or a real S3-compatible server.

mod common;

mod access;
mod account_admin;
mod accounts;
mod clerk_words;
mod cli;
mod cockpit;
mod differencing;
mod downloads;
mod exactly_once;
mod filters;
mod formats;
mod hostile;
mod ids;
mod indicators;
mod lake;
mod map;
mod marts;
mod privacy;
mod profile_files;
mod profiles;
mod properties;
mod pull;
mod python;
mod registers;
mod rejects;
mod s3;
mod sessions;
mod shapes;
mod templates;
mod upload_preview;
mod visitors;
mod web_client;
mod web_hardening;
