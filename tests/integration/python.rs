//! The lake read by readers no one here wrote: Python's `deltalake` and `pyarrow`.

use crate::common::*;

#[tokio::test]
async fn the_lake_opens_in_python_deltalake_and_pyarrow() {
    let f = Fixture::new();
    let personal = crate::privacy::ingested_messy_district(&f);
    let mut expected = serde_json::Map::new();
    for d in edulake_schemas::stored() {
        let n = f
            .query(&format!("SELECT count(*) FROM raw_{}", d.name))
            .await;
        expected.insert(
            d.name.to_string(),
            serde_json::Value::String(n[0][0].clone()),
        );
    }
    let sample = f.query("SELECT student_id, status, CAST(date AS VARCHAR) AS day FROM attendance ORDER BY student_id, date LIMIT 5").await;
    let args = serde_json::json!({
        "lake": f.lake_path(),
        "raw_counts": expected,
        "attendance_sample": sample,
        "personal": personal.iter().take(300).collect::<Vec<_>>(),
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python/check_lake.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(args.to_string())
        .output()
        .expect("python3 must be installed (tests/setup.sh installs what the tests need)");
    assert!(
        out.status.success(),
        "python check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 9 tables"));
}
