//! Every format and encoding DATA.md says a reader must accept gives the same lake rows.

use std::io::Write;

use edulake_ingest::Upload;

use crate::common::*;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    for u in text.replace('\n', "\r\n").encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

fn json_lines(rows: &[Vec<&str>]) -> String {
    let header = &rows[0];
    rows[1..]
        .iter()
        .map(|r| {
            let obj: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(r)
                .map(|(h, v)| (h.to_string(), serde_json::Value::String(v.to_string())))
                .collect();
            serde_json::to_string(&obj).unwrap() + "\n"
        })
        .collect()
}

/// An XLSX with two title rows above the header, and real date cells.
fn xlsx_with_title_rows(rows: &[Vec<&str>]) -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "2026年秋季学期考勤表").unwrap();
    ws.write_string(1, 0, "制表：教务处").unwrap();
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            let row = 3 + i as u32;
            if i > 0 && c == 0 {
                let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap();
                use chrono::Datelike;
                let x = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                    .unwrap();
                ws.write_date_with_format(row, c as u16, &x, &date_fmt)
                    .unwrap();
            } else {
                ws.write_string(row, c as u16, *v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn same_rows_from(name: &str, bytes: Vec<u8>, want_format: &str) {
    let f = Fixture::new();
    let p = f.write(name, bytes);
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!(
        (rec.rows_read, rec.rows_stored, rec.rows_rejected),
        (6, 6, 0),
        "{name}"
    );
    assert!(
        rec.format.contains(want_format),
        "{name}: format {} lacks {want_format}",
        rec.format
    );
    assert_eq!(
        attendance_view(&f).await,
        expected_attendance(&f.key),
        "{name}"
    );
}

#[tokio::test]
async fn csv_utf8() {
    same_rows_from(
        "a.csv",
        to_csv(&attendance_rows(), b',').into_bytes(),
        "csv, UTF-8",
    )
    .await;
}

#[tokio::test]
async fn csv_utf8_with_bom_and_chinese_headers() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(to_csv(&attendance_rows_zh(), b',').into_bytes());
    same_rows_from("考勤.csv", bytes, "UTF-8 with BOM").await;
}

#[tokio::test]
async fn csv_gbk_from_chinese_excel() {
    let text = to_csv(&attendance_rows_zh(), b',');
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    same_rows_from("考勤_gbk.csv", gbk.into_owned(), "GB18030").await;
}

#[tokio::test]
async fn xlsx_with_title_rows_and_date_cells() {
    let f = Fixture::new();
    let p = f.write("考勤.xlsx", xlsx_with_title_rows(&attendance_rows()));
    let out = f.ingest("attendance", Upload::default(), &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!((rec.rows_read, rec.rows_stored), (6, 6));
    match &out[0].outcome {
        edulake_ingest::Outcome::Stored { header, .. } => assert_eq!(header.header_row, 4),
        _ => unreachable!(),
    }
    assert_eq!(attendance_view(&f).await, expected_attendance(&f.key));
}

/// A platform's "Excel" export that is a web page: GBK, a title row spanning the table,
/// header cells, a blank row, and `&nbsp;` around values, named `.xls`.
#[tokio::test]
async fn html_table_saved_as_xls() {
    let rows = attendance_rows_zh();
    let cells = |r: &[&str], tag: &str| -> String {
        r.iter()
            .map(|v| format!("<{tag} style=\"mso-number-format:'\\@'\">&nbsp;{v}</{tag}>"))
            .collect()
    };
    let mut html = String::from(
        "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\" \
         xmlns:x=\"urn:schemas-microsoft-com:office:excel\">\n<head><meta \
         http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"></head>\n<body>\n\
         <table border=\"1\">\n<tr><td colspan=\"6\" align=\"center\">2026年秋季学期考勤表</td></tr>\n",
    );
    html.push_str(&format!("<tr>{}</tr>\n", cells(&rows[0], "th")));
    html.push_str("<tr><td></td><td></td><td></td><td></td><td></td><td></td></tr>\n");
    for r in &rows[1..] {
        html.push_str(&format!("<tr>{}</tr>\n", cells(r, "td")));
    }
    html.push_str("</table>\n</body></html>\n");
    let (gbk, _, _) = encoding_rs::GBK.encode(&html);
    same_rows_from("考勤导出.xls", gbk.into_owned(), "html table").await;
}

#[tokio::test]
async fn csv_with_title_rows() {
    let text = format!(
        "石家庄市第一小学考勤,,,,\n导出时间：2026-09-03,,,,\n{}",
        to_csv(&attendance_rows(), b',')
    );
    same_rows_from("title.csv", text.into_bytes(), "csv").await;
}

#[tokio::test]
async fn utf16le_unicode_text() {
    same_rows_from(
        "考勤.txt",
        utf16le_with_bom(&to_csv(&attendance_rows_zh(), b'\t')),
        "unicode text",
    )
    .await;
}

#[tokio::test]
async fn json_lines_from_a_school_system() {
    same_rows_from(
        "a.jsonl",
        json_lines(&attendance_rows()).into_bytes(),
        "json lines",
    )
    .await;
}

#[tokio::test]
async fn gzip_of_csv_gbk_and_utf16() {
    same_rows_from(
        "a.csv.gz",
        gzip(to_csv(&attendance_rows(), b',').as_bytes()),
        "gzip csv",
    )
    .await;
    let zh = to_csv(&attendance_rows_zh(), b',');
    let (gbk, _, _) = encoding_rs::GBK.encode(&zh);
    same_rows_from("b.csv.gz", gzip(&gbk), "gzip csv, GB18030").await;
    same_rows_from(
        "c.txt.gz",
        gzip(&utf16le_with_bom(&to_csv(&attendance_rows_zh(), b'\t'))),
        "gzip unicode text",
    )
    .await;
    same_rows_from(
        "d.jsonl.gz",
        gzip(json_lines(&attendance_rows()).as_bytes()),
        "gzip json lines",
    )
    .await;
}

#[tokio::test]
async fn semicolon_csv_and_mixed_case_padded_headers() {
    let text = " DATE ;School_Code; class_code ;STUDENT_ID;Status\n2026-09-01;S001;101;G001;present\n2026-09-01;S001;101;G002;absent\n2026-09-01;S001;102;G003;late\n2026-09-02;S001;101;G001;sick_leave\n2026-09-02;S001;101;G002;present\n2026-09-02;S001;102;G003;present\n";
    same_rows_from("semi.csv", text.as_bytes().to_vec(), "csv").await;
}

#[tokio::test]
async fn every_dataset_with_chinese_headers() {
    let f = Fixture::new();
    let files = [
        ("schools", "学校代码,学校名称,区县,学段,纬度,经度,专任教师数\nS001,第一小学,长安区,小学,38.04,114.51,40\nS002,第二中学,桥西区,初级中学,,,\n"),
        ("enrolment", "学籍号,学校代码,年级,班级,性别,出生日期,学籍状态,快照日期,学生姓名\nG001,S001,一年级,101,男,2019-03-04,在籍,2026-09-01,王浩\nG002,S001,初三,901,女,2011/5/6,转出,2026-09-01,李欣\nG003,S001,高一,1001,2,2010年1月2日,,2026-09-01,张三\nG004,S001,2,201,m,2018-01-01,Enrolled,2026-09-01,李四\n"),
        ("health_report", "打卡日期,学校代码,班级,学籍号,体温(℃),症状,是否接触风险人员,填报时间\n2026-09-01,S001,101,G001,36.5,无,否,2026-09-01 07:30\n2026-09-01,S001,101,G002,38.2,发热、咳嗽,是,2026/9/1 7:45:10\n"),
        ("notices", "通知编号,发布单位,标题,类别,发布时间\nN1,教育局,关于秋季开学的通知,安全,2026-09-01 09:00\nN2,S001,家长会通知,,2026-09-02 10:00\n"),
        ("notice_reads", "通知编号,学校代码,手机号,身份,送达时间,阅读时间\nN1,S001,13800138000,家长,2026-09-01 09:01,2026-09-01 12:00\nN1,S001,13900139000,老师,2026-09-01 09:01,\n"),
    ];
    for (d, text) in files {
        let p = f.write(&format!("{d}.csv"), text);
        let out = f.ingest(d, Upload::default(), &[p]).await;
        let rec = stored(&out[0]);
        assert_eq!(rec.rows_rejected, 0, "{d}: {out:?}");
    }
    let schools = f
        .query("SELECT school_code, school_type, teacher_count FROM schools ORDER BY 1")
        .await;
    assert_eq!(
        schools,
        vec![vec!["S001", "primary", "40"], vec!["S002", "junior", ""]]
    );
    let roster = f
        .query("SELECT grade, gender, birth_year, status FROM enrolment ORDER BY grade")
        .await;
    assert_eq!(
        roster,
        vec![
            vec!["1", "M", "2019", "enrolled"],
            vec!["2", "M", "2018", "enrolled"],
            vec!["9", "F", "2011", "transferred_out"],
            vec!["10", "F", "2010", "enrolled"]
        ]
    );
    let health = f.query("SELECT temperature, array_to_string(symptoms, '|'), risk_contact, CAST(reported_at AS VARCHAR) FROM health_report ORDER BY temperature").await;
    assert_eq!(health[0], vec!["36.5", "", "false", "2026-08-31T23:30:00Z"]);
    assert_eq!(health[1][..3], ["38.2", "fever|cough", "true"]);
    let notices = f
        .query("SELECT notice_id, issuer, category FROM notices ORDER BY 1")
        .await;
    assert_eq!(
        notices,
        vec![vec!["N1", "bureau", "safety"], vec!["N2", "S001", "other"]]
    );
    let reads = f.query("SELECT recipient_id, recipient_role, read_at IS NULL FROM notice_reads ORDER BY recipient_role").await;
    assert_eq!(
        reads[0],
        vec![
            f.key.pseudonym("13800138000"),
            "parent".into(),
            "false".into()
        ]
    );
    assert_eq!(reads[1][1..], ["teacher", "true"]);
}

/// A zip of files, stored as they are.
fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, text) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// Files edulake does not read, in the layout their programs write: each is refused as
/// "format not supported: <what it looks like>", never with its first line taken for a
/// header and a list of missing columns.
#[tokio::test]
async fn a_format_edulake_does_not_read_is_named_for_what_it_looks_like() {
    let spreadsheet_2003 = r#"<?xml version="1.0"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="考勤"><Table><Row><Cell><Data ss:Type="String">日期</Data></Cell></Row></Table></Worksheet>
</Workbook>
"#;
    let timed_out = "<!DOCTYPE html><html><head><title>登录超时</title></head>\
        <body><p>您的登录已超时，请重新登录。</p></body></html>";
    let one_roster = zip_of(&[
        ("manifest.csv", "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"),
        ("orgs.csv", "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nS1,active,2026-09-01,一中,school,1301000001,\n"),
        ("users.csv", "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName\nU1,active,2026-09-01,true,S1,student,u1,,三,张\n"),
    ]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("考勤.xml", spreadsheet_2003.as_bytes().to_vec(), "an Excel 2003 XML spreadsheet"),
        ("考勤统计.xls", timed_out.as_bytes().to_vec(), "an HTML page without a table"),
        ("oneroster.zip", one_roster, "a OneRoster bundle (read as `schools` for its orgs, as `enrolment` for its users and enrollments)"),
        ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n".to_vec(), "a PDF document"),
    ];
    let f = Fixture::new();
    for (name, bytes, looks_like) in cases {
        let p = f.write(name, bytes);
        let out = f.ingest("attendance", Upload::default(), &[p]).await;
        let problem = rejected(&out[0]);
        assert_eq!(
            problem,
            format!("format not supported: {looks_like}; save it as XLSX or CSV"),
            "{name}"
        );
        assert!(!problem.contains("column"), "{name}: {problem}");
    }
    // Nothing was stored.
    assert!(f.query("SELECT * FROM attendance").await.is_empty());
}

/// One attendance file uploaded for school S001 on a new lake, every one of its `rows` stored.
async fn attendance_of_s001(
    name: &str,
    bytes: Vec<u8>,
    rows: u64,
) -> (Fixture, Vec<edulake_ingest::FileOutcome>) {
    let f = Fixture::new();
    let p = f.write(name, bytes);
    let upload = Upload {
        school: Some("S001".into()),
        ..Default::default()
    };
    let out = f.ingest("attendance", upload, &[p]).await;
    let rec = stored(&out[0]);
    assert_eq!(
        (rec.rows_read, rec.rows_stored, rec.rows_rejected),
        (rows, rows, 0),
        "{name}"
    );
    (f, out)
}

/// A platform's daily attendance export as a web page named `.xls`: a title row with the
/// day, a two-row header whose merged parents group the day's columns (上午) and another
/// period's (近3日, whose 考勤状态 is not the day's), and no school column (the upload says).
#[tokio::test]
async fn a_two_row_header_is_read_as_its_children() {
    let html = "<html><body><table border=1>\
        <tr><td colspan=6>考勤日报　统计日期：2026年9月1日</td></tr>\
        <tr><th rowspan=2>学籍号</th><th rowspan=2>班级</th><th colspan=2>上午</th><th colspan=2>近3日</th></tr>\
        <tr><th>考勤状态</th><th>打卡时间</th><th>考勤状态</th><th>次数</th></tr>\
        <tr><td>G001</td><td>101</td><td>出勤</td><td>07:31</td><td>缺勤</td><td>2</td></tr>\
        <tr><td>G002</td><td>101</td><td>缺勤</td><td></td><td>缺勤</td><td>3</td></tr>\
        <tr><td>G003</td><td>102</td><td>迟到</td><td>08:12</td><td>出勤</td><td>3</td></tr>\
        </table></body></html>";
    let (f, out) = attendance_of_s001("考勤日报.xls", html.as_bytes().to_vec(), 3).await;
    match &out[0].outcome {
        edulake_ingest::Outcome::Stored { header, .. } => {
            assert_eq!(header.header_row, 3);
            assert_eq!(
                header.unknown,
                vec!["打卡时间", "近3日/考勤状态", "近3日/次数"]
            );
            assert_eq!(
                header
                    .date_source
                    .as_ref()
                    .map(|m| m.to_string())
                    .as_deref(),
                Some("2026-09-01 from the title on row 1")
            );
        }
        other => panic!("{other:?}"),
    }
    let mut got = f
        .query("SELECT student_id, CAST(date AS VARCHAR), school_code, class_code, status FROM attendance")
        .await;
    got.sort();
    let mut want: Vec<Vec<String>> = [
        ("G001", "101", "present"),
        ("G002", "101", "absent"),
        ("G003", "102", "late"),
    ]
    .iter()
    .map(|(id, class, status)| {
        vec![
            f.key.pseudonym(id),
            "2026-09-01".into(),
            "S001".into(),
            class.to_string(),
            status.to_string(),
        ]
    })
    .collect();
    want.sort();
    assert_eq!(got, want);
}

/// The rows under the two-row header of the workbook tests: 上午's 考勤状态 is the day's.
const TWO_ROW_DATA: [[&str; 6]; 2] = [
    ["G001", "101", "出勤", "07:31", "缺勤", "2"],
    ["G002", "101", "病假", "", "病假", "3"],
];

/// What the two-row header's file stores: each pupil with the morning's status.
async fn two_pupils_stored(f: &Fixture) {
    let mut got = f.query("SELECT student_id, status FROM attendance").await;
    got.sort();
    let mut want = vec![
        vec![f.key.pseudonym("G001"), "present".to_string()],
        vec![f.key.pseudonym("G002"), "sick_leave".to_string()],
    ];
    want.sort();
    assert_eq!(got, want);
}

/// The same two-row header in a workbook, its parents merged cells.
#[tokio::test]
async fn a_two_row_header_of_merged_cells_in_a_workbook() {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let plain = Format::new();
    ws.merge_range(0, 0, 0, 5, "考勤日报　统计日期：2026-09-01", &plain)
        .unwrap();
    ws.merge_range(1, 0, 2, 0, "学籍号", &plain).unwrap();
    ws.merge_range(1, 1, 2, 1, "班级", &plain).unwrap();
    ws.merge_range(1, 2, 1, 3, "上午", &plain).unwrap();
    ws.merge_range(1, 4, 1, 5, "本周", &plain).unwrap();
    for (c, h) in ["考勤状态", "打卡时间", "考勤状态", "次数"]
        .iter()
        .enumerate()
    {
        ws.write_string(2, 2 + c as u16, *h).unwrap();
    }
    for (r, row) in TWO_ROW_DATA.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(3 + r as u32, c as u16, *v).unwrap();
        }
    }
    let (f, _) = attendance_of_s001("考勤日报.xlsx", wb.save_to_buffer().unwrap(), 2).await;
    two_pupils_stored(&f).await;
}

/// An Excel 97 workbook (BIFF8) of one sheet as Excel writes one: its strings in a shared
/// string table (UTF-16), each cell a LABELSST, and its merged ranges in a MERGEDCELLS record
/// (`(first row, last row, first column, last column)`; a merged range holds its text in its
/// first cell).
fn biff_workbook(cells: &[(u16, u16, &str)], merged: &[(u16, u16, u16, u16)]) -> Vec<u8> {
    let bof = |kind: u16| {
        let mut d = vec![0x00, 0x06];
        d.extend_from_slice(&kind.to_le_bytes());
        d.extend_from_slice(&[0xBB, 0x0D, 0xCC, 0x07, 0, 0, 0, 0, 6, 0, 0, 0]);
        biff_record(0x0809, &d)
    };
    let mut strings: Vec<&str> = Vec::new();
    for (_, _, s) in cells {
        if !strings.contains(s) {
            strings.push(s);
        }
    }
    let mut sst = (cells.len() as u32).to_le_bytes().to_vec();
    sst.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    for s in &strings {
        let units: Vec<u16> = s.encode_utf16().collect();
        sst.extend_from_slice(&(units.len() as u16).to_le_bytes());
        sst.push(0x01);
        for u in units {
            sst.extend_from_slice(&u.to_le_bytes());
        }
    }
    let mut sheet = bof(0x10);
    let rows = cells.iter().map(|c| c.0).max().unwrap_or(0) as u32 + 1;
    let cols = cells.iter().map(|c| c.1).max().unwrap_or(0) + 1;
    let mut dims = 0u32.to_le_bytes().to_vec();
    dims.extend_from_slice(&rows.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    dims.extend_from_slice(&cols.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    sheet.extend(biff_record(0x0200, &dims));
    for (r, c, s) in cells {
        let mut d = r.to_le_bytes().to_vec();
        d.extend_from_slice(&c.to_le_bytes());
        d.extend_from_slice(&0u16.to_le_bytes());
        let i = strings.iter().position(|x| x == s).unwrap() as u32;
        d.extend_from_slice(&i.to_le_bytes());
        sheet.extend(biff_record(0x00FD, &d));
    }
    let mut m = (merged.len() as u16).to_le_bytes().to_vec();
    for (r1, r2, c1, c2) in merged {
        for v in [r1, r2, c1, c2] {
            m.extend_from_slice(&v.to_le_bytes());
        }
    }
    sheet.extend(biff_record(0x00E5, &m));
    sheet.extend(biff_record(0x000A, &[]));
    let mut globals = bof(0x05);
    globals.extend(biff_record(0x00FC, &sst));
    let boundsheet_len = 4 + 4 + 2 + 2 + 4;
    let start = (globals.len() + boundsheet_len + 4) as u32;
    let mut d = start.to_le_bytes().to_vec();
    d.extend_from_slice(&[0, 0, 4, 0]);
    d.extend_from_slice(b"S001");
    globals.extend(biff_record(0x0085, &d));
    globals.extend(biff_record(0x000A, &[]));
    globals.extend_from_slice(&sheet);
    excel_97(&globals)
}

/// The two-row header of merged cells above, as an Excel 97 `.xls` (BIFF8, MERGEDCELLS).
#[tokio::test]
async fn a_two_row_header_of_merged_cells_in_an_excel_97_workbook() {
    let mut cells: Vec<(u16, u16, &str)> = vec![
        (0, 0, "考勤日报　统计日期：2026-09-01"),
        (1, 0, "学籍号"),
        (1, 1, "班级"),
        (1, 2, "上午"),
        (1, 4, "本周"),
        (2, 2, "考勤状态"),
        (2, 3, "打卡时间"),
        (2, 4, "考勤状态"),
        (2, 5, "次数"),
    ];
    for (r, row) in TWO_ROW_DATA.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                cells.push((3 + r as u16, c as u16, v));
            }
        }
    }
    let merged = [
        (0, 0, 0, 5),
        (1, 2, 0, 0),
        (1, 2, 1, 1),
        (1, 1, 2, 3),
        (1, 1, 4, 5),
    ];
    let bytes = biff_workbook(&cells, &merged);
    assert!(bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]));
    let (f, out) = attendance_of_s001("考勤日报.xls", bytes, 2).await;
    assert!(stored(&out[0]).format.starts_with("xls"), "{out:?}");
    two_pupils_stored(&f).await;
}
