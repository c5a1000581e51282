//! Bad input: whole files rejected with the file, problem and columns found; bad rows
//! rejected alone with row, column, value and reason; good rows kept.

use edulake_ingest::Upload;

use crate::common::*;

#[tokio::test]
async fn files_that_are_not_tables_are_rejected_whole() {
    let f = Fixture::new();
    let garbage = f.write(
        "photo.jpg",
        [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01,
        ],
    );
    let empty = f.write("empty.csv", b"");
    let broken_zip = f.write("broken.xlsx", b"PK\x03\x04this is not a workbook");
    let broken_gz = f.write("broken.csv.gz", [0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]);
    let missing = f.dir.path().join("in/does-not-exist.csv");
    let out = f
        .ingest(
            "attendance",
            Upload::default(),
            &[garbage, empty, broken_zip, broken_gz, missing],
        )
        .await;
    assert_eq!(out.len(), 5);
    for fo in &out {
        let problem = rejected(fo);
        assert!(!problem.is_empty());
    }
    assert!(rejected(&out[1]).contains("empty"));
    assert!(rejected(&out[2]).contains("XLSX"));
    assert!(rejected(&out[3]).contains("gzip"));
    assert!(rejected(&out[4]).contains("cannot read"));
    assert_eq!(
        f.query("SELECT count(*) FROM raw_attendance").await,
        vec![vec!["0"]]
    );
}

#[tokio::test]
async fn a_missing_required_column_names_it_and_the_columns_found() {
    let f = Fixture::new();
    let p = f.write(
        "a.csv",
        "日期,学校代码,学籍号,考勤状态\n2026-09-01,S001,G1,出勤\n",
    );
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    let problem = rejected(&out[0]);
    assert!(problem.contains("class_code"), "{problem}");
    assert!(
        problem.contains("columns found: [日期, 学校代码, 学籍号, 考勤状态]"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_file_of_another_dataset_says_which() {
    let f = Fixture::new();
    let p = f.write(
        "roster.csv",
        "学籍号,学校代码,年级,班级,性别\nG1,S001,一年级,101,男\n",
    );
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    let problem = rejected(&out[0]);
    assert!(
        problem.contains("looks like a `enrolment` file"),
        "{problem}"
    );
}

#[tokio::test]
async fn two_columns_meaning_the_same_are_ambiguous() {
    let f = Fixture::new();
    let p = f.write(
        "a.csv",
        "date,school_code,class_code,学籍号,状态,status\n2026-09-01,S001,101,G1,present,present\n",
    );
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    assert!(rejected(&out[0]).contains("2 columns mean `status`"));
}

#[tokio::test]
async fn a_file_without_school_column_needs_the_upload_school() {
    let f = Fixture::new();
    let text = "日期,班级,学号,状态\n2026-09-01,101,G1,出勤\n2026-09-01,101,G2,缺勤\n";
    let p = f.write("no_school.csv", text);
    let out = f
        .ingest("attendance", Upload::default(), std::slice::from_ref(&p))
        .await;
    assert!(rejected(&out[0]).contains("school_code (or --school)"));
    let out = f
        .ingest(
            "attendance",
            Upload {
                school: Some("S009".into()),
                as_of: None,
                ..Default::default()
            },
            &[p],
        )
        .await;
    assert_eq!(stored(&out[0]).rows_stored, 2);
    assert_eq!(
        f.query("SELECT DISTINCT school_code FROM attendance").await,
        vec![vec!["S009"]]
    );
}

#[tokio::test]
async fn a_roster_without_date_takes_as_of() {
    let f = Fixture::new();
    let p = f.write("roster.csv", "学籍号,年级,班级,性别\nG1,一年级,101,男\n");
    let upload = Upload {
        school: Some("S001".into()),
        as_of: Some(chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap()),
        ..Default::default()
    };
    let out = f.ingest("enrolment", upload, &[p]).await;
    assert_eq!(stored(&out[0]).rows_stored, 1);
    assert_eq!(
        f.query("SELECT school_code, CAST(as_of_date AS VARCHAR), status FROM enrolment")
            .await,
        vec![vec!["S001", "2026-09-01", "enrolled"]]
    );
}

/// One file with a bad row for every rule; the good rows around them are kept.
#[tokio::test]
async fn every_bad_row_is_rejected_alone_and_reported() {
    let f = Fixture::new();
    let attendance = "\
date,school_code,class_code,student_id,status
2026-09-01,S001,101,G1,present
2026-13-45,S001,101,G2,present
2026-12-01,S001,101,G3,present
2026-09-01,S001,101,G4,请假?
2026-09-01,S001,101,,present
2026-09-01,S-01,101,G6,present
2026-09-01,S002,101,G7,present
2026-09-01,S001,101,G8,absent
";
    let p = f.write("att.csv", attendance);
    let out = f
        .ingest(
            "attendance",
            Upload {
                school: Some("S001".into()),
                as_of: None,
                ..Default::default()
            },
            &[p],
        )
        .await;
    let rec = stored(&out[0]);
    assert_eq!(
        (rec.rows_read, rec.rows_stored, rec.rows_rejected),
        (8, 2, 6)
    );
    let report = reject_report(&out[0]);
    assert!(
        report.starts_with(f.state.root()),
        "the report is kept in the state directory"
    );
    let bytes = std::fs::read(report).unwrap();
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "UTF-8 BOM for Excel"
    );
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let lines: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    let expect = [
        ("3", "date", "2026-13-45", "not a date", "不是日期"),
        ("4", "date", "2026-12-01", "in the future", "是未来的日期"),
        (
            "5",
            "status",
            "请假?",
            "not a known attendance status",
            "“请假?”不是有效的考勤状态（可填：出勤、迟到、早退、缺勤、病假、事假）",
        ),
        ("6", "student_id", "", "missing", "缺少必填项：需要学籍号"),
        (
            "7",
            "school_code",
            "S-01",
            "not a school code",
            "不是学校代码",
        ),
        (
            "8",
            "school_code",
            "S002",
            "not the upload's school",
            "不是上传时选择的学校",
        ),
    ];
    assert_eq!(lines.len(), expect.len(), "{lines:?}");
    for (line, (row, col, val, why, zh)) in lines.iter().zip(expect) {
        assert!(line[3].contains(zh), "{line:?} lacks {zh}");
        assert_eq!(
            (line[0].as_str(), line[1].as_str(), line[2].as_str()),
            (row, col, val),
            "{line:?}"
        );
        // The report keeps the reason in Chinese and in English.
        assert!(line[4].contains(why), "{line:?} lacks {why}");
        assert!(!line[3].is_empty() && line[3] != line[4], "{line:?}");
    }
    let kept = f
        .query("SELECT status FROM attendance ORDER BY status")
        .await;
    assert_eq!(kept, vec![vec!["absent"], vec!["present"]]);
}

#[tokio::test]
async fn rules_of_the_other_datasets() {
    let f = Fixture::new();
    let cases: &[(&str, &str, &str, &str)] = &[
        ("schools", "school_code,school_name,district,school_type,latitude,teacher_count\nS1,A,D,大学,38,1\nS2,B,D,小学,95,1\nS3,C,D,小学,38,-4\nS4,E,D,小学,38,3\n", "school_type", "1"),
        ("enrolment", "student_id,school_code,grade,class_code,gender,as_of_date\nG1,S1,十三年级,1,男,2026-09-01\nG2,S1,1,1,未知,2026-09-01\nG3,S1,1,1,女,2026-09-01\n", "grade", "1"),
        ("health_report", "date,school_code,student_id,temperature,symptoms,risk_contact,reported_at\n2026-09-01,S1,G1,50,无,否,2026-09-01 07:00\n2026-09-01,S1,G2,36.6,头晕,否,\n2026-09-01,S1,G3,36.6,,也许,\n2026-09-01,S1,G4,36.6,,,2026-09-01 25:61\n2026-09-01,S1,G5,36.6,咳嗽,N,\n", "temperature", "1"),
        ("notice_reads", "notice_id,school_code,recipient_id,delivered_at,read_at\nN1,S1,P1,2026-09-01 09:00,2026-09-01 08:00\nN1,S1,P2,2026-09-01 09:00,2026-09-01 10:00\n", "read_at", "1"),
        ("notices", "notice_id,issuer,title,published_at\nN1,某某单位!,T,2026-09-01 09:00\nN2,bureau,T,2026-09-01 09:00\n", "issuer", "1"),
    ];
    for (dataset, text, first_bad_column, stored_rows) in cases {
        let p = f.write(&format!("{dataset}.csv"), text);
        let out = f.ingest(dataset, Upload::default(), &[p]).await;
        let rec = stored(&out[0]);
        assert_eq!(
            rec.rows_stored.to_string(),
            *stored_rows,
            "{dataset}: {rec:?}"
        );
        let report = reject_report(&out[0]);
        let text = std::fs::read_to_string(report).unwrap();
        assert!(
            text.lines().nth(1).unwrap().contains(first_bad_column),
            "{dataset}: {text}"
        );
    }
}

#[tokio::test]
async fn a_malformed_json_line_is_one_bad_row() {
    let f = Fixture::new();
    let text = "{\"date\":\"2026-09-01\",\"school_code\":\"S1\",\"class_code\":\"1\",\"student_id\":\"G1\",\"status\":\"present\"}\n{\"date\": broken\n{\"date\":\"2026-09-01\",\"school_code\":\"S1\",\"class_code\":\"1\",\"student_id\":\"G2\",\"status\":\"late\"}\n";
    let p = f.write("a.jsonl", text);
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!(
        (rec.rows_read, rec.rows_stored, rec.rows_rejected),
        (3, 2, 1)
    );
}

#[tokio::test]
async fn the_upload_date_and_school_must_agree_with_the_file() {
    let f = Fixture::new();
    let p = f.write("roster.csv", "学籍号,学校代码,年级,班级,性别,快照日期\nG1,s001,一年级,101,男,2026-09-01\nG2,S001,一年级,101,女,2026-10-01\n");
    let upload = Upload {
        school: Some("S001".into()),
        as_of: Some(chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()),
        ..Default::default()
    };
    let out = f.ingest("enrolment", upload, &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_stored, rec.rows_rejected), (1, 1));
    let report = reject_report(&out[0]);
    let text = std::fs::read_to_string(report).unwrap();
    assert!(
        text.contains("2026-09-01") && text.contains("not the upload's date"),
        "{text}"
    );
    // School codes are one school whatever their case.
    let p = f.write(
        "att.csv",
        "date,school_code,class_code,student_id,status\n2026-09-01,s001,1,G1,present\n",
    );
    let out = f
        .ingest(
            "attendance",
            Upload {
                school: Some("S001".into()),
                as_of: None,
                ..Default::default()
            },
            &[p],
        )
        .await;
    assert_eq!(stored(&out[0]).rows_stored, 1);
    assert_eq!(
        f.query("SELECT school_code FROM attendance").await,
        vec![vec!["S001"]]
    );
}
