//! The commands' standard output. A reader that goes away (`edulake indicators | head -1`)
//! fails nothing: what is left to say is dropped and the command finishes its work (an ingest
//! still stores its files) and exits 0. Any other failure to write is said on stderr once and
//! makes the command exit 1.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Standard output can take no more (closed, or failing).
static CLOSED: AtomicBool = AtomicBool::new(false);
/// Writing failed for another reason than a reader that went away.
static FAILED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output, a line end after it if `line`.
pub fn write(args: std::fmt::Arguments, line: bool) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|_| if line { out.write_all(b"\n") } else { Ok(()) });
    if let Err(e) = written {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            FAILED.store(true, Ordering::Relaxed);
            eprintln!("edulake: cannot write to standard output: {e}");
        }
    }
}

/// Whether writing to standard output failed (a closed pipe is not a failure).
pub fn failed() -> bool {
    FAILED.load(Ordering::Relaxed)
}
