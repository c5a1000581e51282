//! Property tests: the readers never panic, and every row read is stored or rejected.

use proptest::prelude::*;

use edulake_ingest::clean::{clean, CleanContext, Upload};
use edulake_ingest::read::read_table;
use edulake_ingest::Key;

fn run(dataset: &str, bytes: Vec<u8>) {
    let key = Key::parse("property test key 0123456789").unwrap();
    let upload = Upload::default();
    let ctx = CleanContext {
        dataset: edulake_schemas::by_name(dataset).unwrap(),
        upload: &upload,
        key: &key,
        tz: "Asia/Shanghai".parse().unwrap(),
        window: edulake_ingest::values::Window {
            earliest: edulake_ingest::values::Window::DEFAULT_EARLIEST,
            today: crate::common::today(),
        },
        batch_id: "b",
        ingested_at: 0,
    };
    if let Ok(t) = read_table(bytes) {
        if let Ok(c) = clean(&ctx, t.rows, t.spreadsheet) {
            assert_eq!(c.rows_read, c.rows_stored + c.rows_rejected);
            let stored: usize = c.batches.iter().map(|b| b.num_rows()).sum();
            assert_eq!(stored as u64, c.rows_stored);
        }
    }
}

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("2026-09-01".to_string()),
        Just("2026年9月1日".to_string()),
        Just("出勤".to_string()),
        Just("present".to_string()),
        Just("37.5".to_string()),
        Just("发热、咳嗽".to_string()),
        Just("G001".to_string()),
        Just("S1".to_string()),
        Just("\"quoted, with comma\"".to_string()),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for d in ["attendance", "health_report", "notice_reads"] {
            run(d, bytes.clone());
        }
    }

    #[test]
    fn random_bytes_behind_magic_numbers_never_panic(
        magic in prop_oneof![Just(vec![0x1f, 0x8b]), Just(b"PK\x03\x04".to_vec()), Just(vec![0xFF, 0xFE]), Just(vec![0xEF, 0xBB, 0xBF]), Just(b"{".to_vec())],
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut all = magic;
        all.extend(bytes);
        run("attendance", all);
    }

    #[test]
    fn random_csv_never_panics_and_counts_add_up(
        header_pick in proptest::collection::vec(0usize..9, 1..7),
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..8), 0..20),
        sep in prop_oneof![Just(','), Just('\t'), Just(';')],
    ) {
        let names = ["date", "school_code", "class_code", "student_id", "status", "日期", "学号", "体温", "备注"];
        let mut text: String = header_pick.iter().map(|i| names[*i]).collect::<Vec<_>>().join(&sep.to_string());
        text.push('\n');
        for r in rows {
            text.push_str(&r.join(&sep.to_string()));
            text.push('\n');
        }
        run("attendance", text.clone().into_bytes());
        run("health_report", text.into_bytes());
    }
}
