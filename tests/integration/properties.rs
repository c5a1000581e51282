//! Property tests: the readers never panic, and every row read is stored or rejected.

use proptest::prelude::*;

use edulake_ingest::clean::{clean, CleanContext, Upload};
use edulake_ingest::read::read_table;
use edulake_ingest::Key;

fn run(dataset: &str, bytes: Vec<u8>) {
    run_with(dataset, bytes, None)
}

/// [`run`] with a file read by a profile (its value maps, dates, yes/no lists, row filters).
fn run_with(dataset: &str, bytes: Vec<u8>, profile: Option<&str>) {
    let profiles = edulake_ingest::profile::Profiles::built_in();
    let choice = profile.map(|name| edulake_ingest::profile::Choice {
        profile: profiles.get(name).expect("a built-in profile"),
        why: edulake_schemas::words::Msg::plain("test"),
    });
    let key = Key::parse("property test key 0123456789").unwrap();
    let upload = Upload::default();
    let ctx = CleanContext {
        dataset: edulake_schemas::stored_by_name(dataset).unwrap(),
        upload: &upload,
        key: &key,
        tz: "Asia/Shanghai".parse().unwrap(),
        window: edulake_ingest::values::Window {
            earliest: edulake_ingest::values::Window::DEFAULT_EARLIEST,
            today: crate::common::today(),
        },
        batch_id: "b",
        ingested_at: 0,
        file_date: None,
        profile: choice.as_ref(),
        progress: None,
    };
    if let Ok(t) = read_table(bytes) {
        if let Ok(c) = clean(&ctx, t.rows, t.spreadsheet) {
            assert_eq!(c.rows_read, c.rows_stored + c.rows_rejected);
            let stored: usize = c.batches.iter().map(|b| b.num_rows()).sum();
            // An exception register also stores a row for each class-day it covers.
            assert_eq!(stored as u64, c.rows_stored + c.covered);
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
        header_pick in proptest::collection::vec(0usize..15, 1..9),
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 0..8), 0..20),
        sep in prop_oneof![Just(','), Just('\t'), Just(';')],
    ) {
        let names = ["date", "school_code", "class_code", "student_id", "status", "日期", "学号", "体温", "备注",
                     "应到", "实到", "缺勤", "因病缺课", "发热", "合计"];
        let mut text: String = header_pick.iter().map(|i| names[*i]).collect::<Vec<_>>().join(&sep.to_string());
        text.push('\n');
        for r in rows {
            text.push_str(&r.join(&sep.to_string()));
            text.push('\n');
        }
        for dataset in ["attendance", "health_report", "class_report", "attendance_exceptions"] {
            run(dataset, text.clone().into_bytes());
        }
    }
}

/// An attendance workbook of a few rows, as Excel would write it, unzipped into its parts.
fn workbook_parts() -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let rows = crate::common::attendance_rows();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut part = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            part.read_to_end(&mut data).unwrap();
            (part.name().unwrap().to_string(), data)
        })
        .collect()
}

fn zipped(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in parts {
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Bytes that make a sheet's XML say something else: digits, letters of cell references,
/// quotes, brackets.
fn sheet_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'9'),
        Just(b'Z'),
        Just(b'"'),
        Just(b'<'),
        Just(b'>'),
        Just(b'/'),
        Just(b' '),
        any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A real workbook whose sheet, shared strings or styles are damaged here and there: read
    /// or refused, never a panic, never more than the limits.
    #[test]
    fn damaged_workbooks_never_panic(
        part in 0usize..8,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), sheet_byte(), 1usize..12), 1..12),
    ) {
        let mut parts = workbook_parts();
        let i = part % parts.len();
        let data = &mut parts[i].1;
        for (at, byte, run) in edits {
            let at = at.index(data.len().max(1));
            for k in 0..run {
                if let Some(b) = data.get_mut(at + k) {
                    *b = byte;
                } else {
                    data.push(byte);
                }
            }
        }
        run("attendance", zipped(&parts));
    }

    /// Excel 97 workbooks of random BIFF records (cells at any row and column, dimensions of
    /// any size, strings of any length): read or refused, never a panic.
    #[test]
    fn random_xls_records_never_panic(
        records in proptest::collection::vec(
            (
                prop_oneof![
                    Just(0x0809u16), Just(0x0200), Just(0x0203), Just(0x0204), Just(0x027E),
                    Just(0x00FD), Just(0x00BD), Just(0x00BE), Just(0x00FC), Just(0x0085),
                    Just(0x000A), Just(0x003C), any::<u16>()
                ],
                proptest::collection::vec(any::<u8>(), 0..40),
            ),
            1..30,
        ),
    ) {
        use std::io::Write;
        let mut stream = Vec::new();
        for (typ, data) in &records {
            stream.extend_from_slice(&typ.to_le_bytes());
            stream.extend_from_slice(&(data.len() as u16).to_le_bytes());
            stream.extend_from_slice(data);
        }
        let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        file.create_stream("/Workbook").unwrap().write_all(&stream).unwrap();
        file.flush().unwrap();
        run("attendance", file.into_inner().into_inner());
    }

    /// JSON lines with any number of keys and values of any length; gzip of any of it.
    #[test]
    fn json_lines_of_any_shape_never_panic(
        lines in proptest::collection::vec(
            proptest::collection::vec(("[a-z]{1,3}", "[ -~是否出勤]{0,12}"), 0..12),
            0..25,
        ),
        gzipped in any::<bool>(),
    ) {
        let mut text = String::new();
        for line in lines {
            let obj: serde_json::Map<String, serde_json::Value> = line
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            text.push_str(&serde_json::Value::Object(obj).to_string());
            text.push('\n');
        }
        let bytes = if gzipped {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text.as_bytes()).unwrap();
            gz.finish().unwrap()
        } else {
            text.into_bytes()
        };
        run("attendance", bytes);
    }

    /// HTML tables of any shape: cells spanning any number of rows and columns (in range or
    /// not), tags left open, nested tables, stray text.
    #[test]
    fn html_tables_of_any_shape_never_panic(
        rows in proptest::collection::vec(
            proptest::collection::vec(
                (
                    prop_oneof!["td", "th", "table", "tr", "p"],
                    "[ -~是否出勤]{0,8}",
                    proptest::option::of(0u32..70_000),
                    proptest::option::of(0u32..70_000),
                    any::<bool>(),
                ),
                0..8,
            ),
            0..20,
        ),
    ) {
        let mut html = String::from("<html><body><table>");
        for row in rows {
            html.push_str("<tr>");
            for (tag, text, colspan, rowspan, close) in row {
                html.push('<');
                html.push_str(&tag);
                if let Some(c) = colspan {
                    html.push_str(&format!(" colspan=\"{c}\""));
                }
                if let Some(r) = rowspan {
                    html.push_str(&format!(" rowspan='{r}'"));
                }
                html.push('>');
                html.push_str(&text);
                if close {
                    html.push_str(&format!("</{tag}>"));
                }
            }
        }
        run("attendance", html.into_bytes());
    }
}

/// A piece of an XML document: elements (closed or not), attributes, text, entities, CDATA,
/// declarations.
fn xml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z]{1,6}".prop_map(|n| format!("<{n}>")),
        "[A-Za-z]{1,6}".prop_map(|n| format!("</{n}>")),
        "[A-Za-z]{1,6}".prop_map(|n| format!("<{n} id=\"1\"/>")),
        Just("<EventDate>2026-10-12</EventDate>".to_string()),
        Just("<AttendanceEventCategory>uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy</AttendanceEventCategory>".to_string()),
        Just("<StudentUniqueId>604822</StudentUniqueId>".to_string()),
        Just("<SchoolId>255901001</SchoolId>".to_string()),
        Just("&amp;".to_string()),
        Just("&#x41;".to_string()),
        Just("&#0;".to_string()),
        Just("&undeclared;".to_string()),
        Just("<![CDATA[<x>]]>".to_string()),
        Just("<!-- c -->".to_string()),
        Just("<?pi x?>".to_string()),
        Just("<!DOCTYPE x>".to_string()),
        "\\PC{0,8}",
    ]
}

/// A row of a DingTalk, form-platform or leave export's cells.
fn profiled_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("正常".to_string()),
        Just("请假".to_string()),
        Just("迟到12分钟".to_string()),
        Just("休息".to_string()),
        Just("是".to_string()),
        Just("不适".to_string()),
        Just("同意".to_string()),
        Just("1791734400000".to_string()),
        Just("99999999999999999999".to_string()),
        Just("2026/10/12 7:32:10".to_string()),
        Just("七年级(1)班".to_string()),
        "[ -~]{0,10}",
        "\\PC{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// XML of any shape: read as records or refused with a sentence, never a panic.
    #[test]
    fn xml_of_any_shape_never_panics(
        pieces in proptest::collection::vec(xml_piece(), 0..40),
        declared in any::<bool>(),
    ) {
        let mut xml = String::new();
        if declared {
            xml.push_str("<?xml version=\"1.0\"?>\n");
        }
        xml.push_str("<InterchangeStudentAttendance>");
        for p in pieces {
            xml.push_str(&p);
        }
        run("attendance_exceptions", xml.clone().into_bytes());
        run_with("attendance_exceptions", xml.into_bytes(), Some("edfi-attendance-events"));
    }

    /// Rows of any cells under the headers of a profile: read with its meanings, every row
    /// stored or rejected (or left out by the profile), never a panic.
    #[test]
    fn profiled_rows_never_panic(
        which in 0usize..3,
        rows in proptest::collection::vec(proptest::collection::vec(profiled_cell(), 0..9), 0..15),
    ) {
        let (dataset, profile, header) = [
            ("attendance", "dingtalk-daily", "姓名,考勤组,部门,工号,workDate,班次,上班1打卡结果,关联的审批单"),
            ("health_report", "form-checkin", "提交时间,学籍号,班级,今日体温,是否发热,是否咳嗽,健康状况,序号"),
            ("attendance_exceptions", "leave-approvals", "审批编号,审批状态,审批结果,学籍号,班级,请假类型,开始时间,结束时间"),
        ][which];
        let mut text = format!("{header}\n");
        for r in rows {
            text.push_str(&r.join(","));
            text.push('\n');
        }
        run_with(dataset, text.into_bytes(), Some(profile));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// OneRoster bundles of any cells, headers written any way and entities missing: read as a
    /// roster (or refused with a sentence), never a panic.
    #[test]
    fn one_roster_bundles_of_any_shape_never_panic(
        cells in proptest::collection::vec(proptest::collection::vec(profiled_cell(), 0..12), 0..12),
        header_typo in any::<bool>(),
        with_enrollments in any::<bool>(),
    ) {
        use std::io::Write;
        let users_head = if header_typo {
            "sourcedID,status,dataLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
        } else {
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
        };
        let rows: String = cells.iter().map(|r| r.join(",") + "\n").collect();
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        let mut files = vec![
            ("manifest.csv", "propertyName,value\noneroster.version,1.1\n".to_string()),
            ("orgs.csv", format!("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n{rows}")),
            ("users.csv", format!("{users_head}\n{rows}")),
            ("classes.csv", format!("sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId\n{rows}")),
            ("demographics.csv", format!("sourcedId,status,dateLastModified,birthDate,sex\n{rows}")),
        ];
        if with_enrollments {
            files.push(("enrollments.csv", format!("sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n{rows}")));
        }
        for (name, text) in files {
            out.start_file(name, opts).unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        let bytes = out.finish().unwrap().into_inner();
        run_with("enrolment", bytes.clone(), Some("oneroster-roster"));
        run("schools", bytes);
    }
}
