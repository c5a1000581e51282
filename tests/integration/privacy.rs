//! No name, phone number or raw identifier from the input reaches the lake: not in any
//! value, not in any file's bytes (Parquet statistics and the Delta log are plain text).

use crate::common::*;
use crate::lake::walk;

/// A messy district generated, ingested with the real binary, and its personal values.
pub fn ingested_messy_district(f: &Fixture) -> Vec<String> {
    let out = f.dir.path().join("extracts");
    let mut opts = edulake_ingest::generate::GenerateOptions::new(
        chrono::NaiveDate::from_ymd_opt(2026, 10, 9).unwrap(),
    );
    opts.schools = 6;
    opts.students = 240;
    opts.days = 12;
    opts.messy = true;
    opts.real_shapes = true;
    opts.record_personal = true;
    let g = edulake_ingest::generate::generate(&out, &opts).unwrap();
    assert!(g.personal.len() > 400);
    for d in edulake_schemas::names() {
        let single = out.join(format!("{d}.csv"));
        let path = if single.exists() { single } else { out.join(d) };
        let o = f.cli(&["--quiet", "ingest", "--dataset", d, path.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains("stored"),
            "{d}: {stdout}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The exception registers (a folder per school, the school in each file too).
    let registers = out.join("attendance_exceptions");
    let o = f.cli(&[
        "--quiet",
        "ingest",
        "--dataset",
        "attendance",
        "--exceptions",
        registers.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stored"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    g.personal
}

#[tokio::test]
async fn nothing_personal_reaches_the_lake() {
    let f = Fixture::new();
    let personal = ingested_messy_district(&f);
    // Every value of every table, as text.
    let mut values = std::collections::HashSet::new();
    for d in edulake_schemas::stored() {
        for row in f.query(&format!("SELECT * FROM raw_{}", d.name)).await {
            values.extend(row);
        }
    }
    for row in f.query("SELECT * FROM batches").await {
        values.extend(row);
    }
    assert!(values.len() > 1000);
    for p in &personal {
        assert!(!values.contains(p), "{p} is in the lake");
        assert!(
            !values.iter().any(|v| v.contains(p.as_str())),
            "{p} is inside a lake value"
        );
    }
    // Every byte of every file under the lake.
    let files = walk(&f.lake_path());
    assert!(files.len() > 10);
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for p in &personal {
            let needle = p.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{p} found in {}",
                file.display()
            );
        }
    }
}
