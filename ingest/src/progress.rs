//! How far an ingest has got, for a progress bar: the bytes of the files read so far and the
//! rows read, advanced as a file's rows are read (not only when a file is done), so one big
//! file moves the bar too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Rows between two reports of a file's progress.
pub(crate) const REPORT_EVERY_ROWS: u64 = 8192;

/// Shared by the worker threads and whoever shows the bar.
#[derive(Debug, Default)]
pub struct Progress {
    bytes: AtomicU64,
    rows: AtomicU64,
}

impl Progress {
    /// Bytes of the files read so far (a file being read counts by how far its rows are).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
}

/// One file's share of a [`Progress`]: whatever it has not reported when it is dropped (the
/// file done, rejected or skipped) is added then.
#[derive(Debug)]
pub struct FileProgress {
    shared: Arc<Progress>,
    file_bytes: u64,
    reported: AtomicU64,
}

impl FileProgress {
    pub(crate) fn new(shared: Arc<Progress>, file_bytes: u64) -> Self {
        FileProgress {
            shared,
            file_bytes,
            reported: AtomicU64::new(0),
        }
    }

    /// `rows` more rows read, and `fraction` of the file (0 to 1) read so far, if known.
    pub(crate) fn advance(&self, rows: u64, fraction: Option<f64>) {
        self.shared.rows.fetch_add(rows, Ordering::Relaxed);
        if let Some(f) = fraction {
            let now = ((self.file_bytes as f64) * f.clamp(0.0, 1.0)) as u64;
            let before = self.reported.fetch_max(now, Ordering::Relaxed);
            if now > before {
                self.shared.bytes.fetch_add(now - before, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        let before = self.reported.swap(self.file_bytes, Ordering::Relaxed);
        self.shared
            .bytes
            .fetch_add(self.file_bytes.saturating_sub(before), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_counts_its_bytes_once_however_it_ends() {
        let shared = Arc::new(Progress::default());
        {
            let f = FileProgress::new(shared.clone(), 1000);
            f.advance(8192, Some(0.25));
            assert_eq!((shared.bytes(), shared.rows()), (250, 8192));
            f.advance(8192, Some(0.2));
            assert_eq!(shared.bytes(), 250);
            f.advance(10, None);
            assert_eq!(shared.rows(), 16394);
        }
        assert_eq!(shared.bytes(), 1000);
        drop(FileProgress::new(shared.clone(), 500));
        assert_eq!(shared.bytes(), 1500);
    }
}
