//! What one file may hold. The readers check these as they go, before they allocate for what a
//! file claims, so no file can make edulake ask for more memory than these allow; a file over
//! any of them is rejected whole with the limit named. The README lists them.

/// The largest file read, as sent (512 MiB). A file is read whole, and two are read at a
/// time on a two-core server: what one file may hold is what a bureau's server can spare
/// twice over.
pub const MAX_FILE_BYTES: u64 = 512 << 20;

use edulake_schemas::msg;
use edulake_schemas::words::Msg;

/// The most a compressed file (gzip, or the parts of an XLSX workbook) may unpack to
/// (512 MiB).
pub const MAX_UNPACKED_BYTES: u64 = 512 << 20;

/// The most an XLSX workbook's shared strings (every text of the workbook, kept in memory
/// while it is read) may unpack to (128 MiB).
pub const MAX_SHARED_STRINGS_BYTES: u64 = 128 << 20;

/// How many times its own size a compressed file may unpack to, once past
/// [`RATIO_FREE_BYTES`]: real extracts unpack to 5–20 times their size, bombs to thousands.
pub const MAX_RATIO: u64 = 100;

/// Unpacked bytes allowed whatever the ratio (a small, very regular file is no danger).
pub const RATIO_FREE_BYTES: u64 = 64 << 20;

/// Rows of one file (title rows and the header included).
pub const MAX_ROWS: u64 = 5_000_000;

/// The largest HTML table read (a page's tree in memory is many times its text; a platform's
/// HTML export is a few MiB at most).
pub const MAX_HTML_BYTES: usize = 32 << 20;

/// Columns of one row (or distinct keys of a JSON-lines file).
pub const MAX_COLUMNS: usize = 256;

/// Characters of one cell.
pub const MAX_CELL_CHARS: usize = 4_096;

/// Cells with a value in the sheet read.
pub const MAX_SHEET_CELLS: u64 = 10_000_000;

/// The text of the sheet read, every cell's counted (a shared string is counted in every
/// cell that shows it): 256 MiB.
pub const MAX_SHEET_TEXT_BYTES: u64 = 256 << 20;

/// Rejected cells listed in a reject report; more are counted, not listed.
pub const MAX_REJECTS_LISTED: usize = 100_000;

/// Characters of a rejected value quoted in a reject report.
pub const MAX_REJECT_VALUE_CHARS: usize = 200;

/// For an Excel 97 (`.xls`) workbook, which is read as whole grids: the rows × columns its
/// sheets span together.
pub const MAX_XLS_GRID: u64 = 4_000_000;

/// Checks what a compressed file (or part) has unpacked to so far against what it took to
/// get there: at most [`MAX_UNPACKED_BYTES`] in all, and past [`RATIO_FREE_BYTES`] at most
/// [`MAX_RATIO`] times the compressed bytes read. Called as it unpacks, so a bomb is stopped
/// after its first megabytes, not after the limit.
pub fn check_unpacked(what: Msg, unpacked: u64, compressed: u64) -> Result<(), Msg> {
    if unpacked > MAX_UNPACKED_BYTES {
        return Err(msg!(
            "unpacks_too_big",
            what = what,
            limit = MAX_UNPACKED_BYTES >> 20
        ));
    }
    if unpacked > RATIO_FREE_BYTES && unpacked > compressed.saturating_mul(MAX_RATIO) {
        return Err(msg!("unpacks_too_much", what = what, ratio = MAX_RATIO));
    }
    Ok(())
}

/// The column name a person sees in Excel (0 → `A`, 26 → `AA`).
pub fn column_letters(mut col: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A number with thousands separators (`5,000,000`).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_limits() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(16_383), "XFD");
        assert_eq!(grouped(5_000_000), "5,000,000");
        assert_eq!(grouped(999), "999");
        assert!(check_unpacked(Msg::plain("x"), RATIO_FREE_BYTES, 1).is_ok());
        assert!(check_unpacked(Msg::plain("x"), RATIO_FREE_BYTES + 1, 1).is_err());
        assert!(check_unpacked(Msg::plain("x"), 200 << 20, 2 << 20).is_ok());
        assert!(check_unpacked(Msg::plain("x"), 201 << 20, 2 << 20).is_err());
        assert!(
            check_unpacked(Msg::plain("x"), MAX_UNPACKED_BYTES + 1, MAX_UNPACKED_BYTES).is_err()
        );
    }
}
