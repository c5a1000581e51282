//! The data dictionary (Markdown), generated from the dataset definitions so it cannot drift.

use std::fmt::Write;

use crate::dataset::{Dataset, Kind, Required};
use crate::vocab::{NO_SYMPTOM, PERSONAL_HEADERS};

/// The dictionary of one dataset.
pub fn dataset_markdown(d: &Dataset) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## `{}` {}\n", d.name, d.chinese);
    let _ = writeln!(out, "Sent by {}; one row is {}.", d.sent_by, d.row_is);
    let _ = writeln!(
        out,
        "Key (a later upload of the same key wins): {}.",
        d.key
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !d.partition_by.is_empty() {
        let _ = writeln!(
            out,
            "Lake table `{}` is partitioned by {}.",
            d.name,
            d.partition_by.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n| column | stored as | type | required | aliases | rules |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for c in d.columns {
        let req = match c.required {
            Required::Yes => "yes",
            Required::No => "no",
            Required::FromUpload => "yes*",
            Required::Unless(_) => "yes†",
        };
        let _ = writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} | {} |",
            c.name,
            c.stored_name(),
            c.kind.label(),
            req,
            c.aliases.join(", "),
            c.doc
        );
    }
    let _ = writeln!(
        out,
        "| | `_batch_id`, `_ingested_at`, `_row` | str, timestamp, int | | | the batch a row came from, when, and its row in the source file |"
    );
    let mut vocabs = Vec::new();
    for c in d.columns {
        if let Kind::Enum(v) | Kind::EnumList(v) = c.kind {
            if !vocabs.contains(&v.name) {
                vocabs.push(v.name);
                let _ = writeln!(out, "\n`{}` values:", v.name);
                for (canonical, aliases) in v.values {
                    let _ = writeln!(out, "- `{}` {}", canonical, aliases.join(" / "));
                }
                if matches!(c.kind, Kind::EnumList(_)) {
                    let _ = writeln!(out, "- empty list: {}", NO_SYMPTOM.join(" / "));
                }
            }
        }
    }
    out
}

/// The whole dictionary: every dataset and the rules every reader applies.
pub fn markdown() -> String {
    let mut out = String::from("# edulake data dictionary\n\n");
    out.push_str(
        "Generated from the `schemas` crate. Headers match case-insensitively after trimming; \
         column order is free. Formats: CSV, XLSX, UTF-16 tab-separated text, JSON lines, gzip of \
         the text formats; UTF-8 (with or without BOM) or GB18030/GBK.\n\n\
         The bureau's date window: every date and timestamp (in the bureau's time zone) must lie \
         between its earliest date (`EDULAKE_EARLIEST_DATE`, default 2000-01-01) and today; a row \
         with a date outside it is rejected, with the reason, in the reject report. A date of \
         birth must be a plausible one (from 1900 to today).\n\n",
    );
    let _ = writeln!(
        out,
        "Personal data never stored (columns dropped on read): {}.\n",
        PERSONAL_HEADERS.join(", ")
    );
    for d in crate::all() {
        out.push_str(&dataset_markdown(d));
        out.push('\n');
    }
    out
}
