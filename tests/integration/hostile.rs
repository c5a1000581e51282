//! Nothing a clerk sends can take edulake down or poison the lake: each hostile file is made
//! here, and the real binary reads it under an address-space limit (`prlimit --as`), so that a
//! reader which asks for what a file claims fails this test instead of the machine.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

/// The address space a process under test may use: more than edulake needs, far less than
/// any of the hostile files would make it ask for.
pub const ADDRESS_SPACE: &str = "4294967296";

/// Runs `edulake` on the fixture's lake under the address-space limit, with a small memory
/// pool and few malloc arenas (each arena reserves address space it may never use).
pub fn limited(f: &Fixture, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = limited_command(f, env);
    c.args(args).output().expect("run prlimit edulake")
}

/// The command of [`limited`], to spawn.
pub fn limited_command(f: &Fixture, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={ADDRESS_SPACE}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_edulake"))
        .current_dir(f.dir.path())
        .env("LC_ALL", "en_US.UTF-8")
        .env_remove("EDULAKE_KEY")
        .env("EDULAKE_LAKE", f.lake_path())
        .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
        .env("EDULAKE_MEMORY_MB", "512")
        .env("MALLOC_ARENA_MAX", "2");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An attendance workbook with one good row, and `extra` cells written at (row, column).
fn workbook(extra: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["日期", "学校代码", "班级", "学籍号", "考勤状态"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["2026-09-01", "S001", "101", "G001", "出勤"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    for (r, c, v) in extra {
        ws.write_string(*r, *c, *v).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// A zip rewritten: each part passed through `edit` (name, bytes) → bytes; `add` appended.
fn rezip(
    bytes: &[u8],
    edit: impl Fn(&str, Vec<u8>) -> Vec<u8>,
    add: &[(&str, Vec<u8>)],
) -> Vec<u8> {
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for i in 0..zin.len() {
        let mut part = zin.by_index(i).unwrap();
        let name = part.name().unwrap().to_string();
        let mut data = Vec::new();
        part.read_to_end(&mut data).unwrap();
        out.start_file(&name, deflated).unwrap();
        out.write_all(&edit(&name, data)).unwrap();
    }
    for (name, data) in add {
        out.start_file(*name, deflated).unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// One BIFF record.
fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
    biff_record(typ, data)
}

/// An Excel 97 workbook: its globals naming `sheets` (each a sheet at an offset of the stream,
/// counted from where the globals end), then `body` (the sheets' records, however hidden).
fn xls(sheets: &[u32], body: &[u8]) -> Vec<u8> {
    let bof = |kind: u16| {
        let mut d = vec![0x00, 0x06];
        d.extend_from_slice(&kind.to_le_bytes());
        d.extend_from_slice(&[0xBB, 0x0D, 0xCC, 0x07, 0, 0, 0, 0, 6, 0, 0, 0]);
        rec(0x0809, &d)
    };
    let boundsheet = |pos: u32, i: usize| {
        let name = format!("S{i:03}");
        let mut d = pos.to_le_bytes().to_vec();
        d.extend_from_slice(&[0, 0, name.len() as u8, 0]);
        d.extend_from_slice(name.as_bytes());
        rec(0x0085, &d)
    };
    let globals_len = (bof(5).len() + boundsheet(0, 0).len() * sheets.len() + 4) as u32;
    let mut stream = bof(5);
    for (i, at) in sheets.iter().enumerate() {
        stream.extend(boundsheet(globals_len + at, i));
    }
    stream.extend(rec(0x000A, &[]));
    stream.extend_from_slice(body);
    excel_97(&stream)
}

/// An Excel 97 workbook of one sheet whose globals hold `strings` (an SST and its
/// CONTINUE records).
fn xls_with_strings(strings: &[u8], sheet: &[u8]) -> Vec<u8> {
    let mut globals = rec(
        0x0809,
        &[
            0x00, 0x06, 0x05, 0x00, 0xBB, 0x0D, 0xCC, 0x07, 0, 0, 0, 0, 6, 0, 0, 0,
        ],
    );
    globals.extend_from_slice(strings);
    let boundsheet_len = 4 + 4 + 4 + 4;
    let start = (globals.len() + boundsheet_len + 4) as u32;
    let mut d = start.to_le_bytes().to_vec();
    d.extend_from_slice(&[0, 0, 4, 0]);
    d.extend_from_slice(b"S001");
    globals.extend(rec(0x0085, &d));
    globals.extend(rec(0x000A, &[]));
    globals.extend_from_slice(sheet);
    excel_97(&globals)
}

/// A sheet's records: BOF, DIMENSIONS of rows × columns, a header, cells at `cells`, EOF.
fn xls_sheet(rows: u32, cols: u16, cells: &[(u16, u16)]) -> Vec<u8> {
    let mut s = rec(
        0x0809,
        &[
            0x00, 0x06, 0x10, 0x00, 0xBB, 0x0D, 0xCC, 0x07, 0, 0, 0, 0, 6, 0, 0, 0,
        ],
    );
    let mut dims = 0u32.to_le_bytes().to_vec();
    dims.extend_from_slice(&rows.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    dims.extend_from_slice(&cols.to_le_bytes());
    dims.extend_from_slice(&0u16.to_le_bytes());
    s.extend(rec(0x0200, &dims));
    for (c, h) in ["date", "school_code", "class_code", "student_id", "status"]
        .iter()
        .enumerate()
    {
        let mut d = 0u16.to_le_bytes().to_vec();
        d.extend_from_slice(&(c as u16).to_le_bytes());
        d.extend_from_slice(&[0, 0, h.len() as u8, 0, 0]);
        d.extend_from_slice(h.as_bytes());
        s.extend(rec(0x0204, &d));
    }
    for (r, c) in cells {
        let mut d = r.to_le_bytes().to_vec();
        d.extend_from_slice(&c.to_le_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend_from_slice(&1f64.to_le_bytes());
        s.extend(rec(0x0203, &d));
    }
    s.extend(rec(0x000A, &[]));
    s
}

fn gzip_of(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Each hostile file of the issue, made here, is rejected whole with its limit named, within
/// the address-space limit; a good file of the same ingest is stored.
#[test]
fn hostile_files_are_rejected_whole_within_their_limits() {
    let f = Fixture::new();
    let good = f.write(
        "00-good.csv",
        "日期,学校代码,班级,学籍号,考勤状态\n2026-09-01,S001,101,G001,出勤\n",
    );
    // Cells at A1 and XFD1048576: a dense reader asks for 17 billion cells.
    let far = workbook(&[(1_048_575, 16_383, "x")]);
    let far_cell = f.write("01-far-cell.xlsx", &far);
    // A cell reference no sheet can have.
    let bad_ref = f.write(
        "02-bad-reference.xlsx",
        rezip(
            &far,
            |name, data| {
                if name.starts_with("xl/worksheets/") {
                    String::from_utf8(data)
                        .unwrap()
                        .replace("XFD1048576", "ZZZZZZZ1")
                        .into_bytes()
                } else {
                    data
                }
            },
            &[],
        ),
    );
    // A zip bomb: a part of 128 MiB of zeros in a workbook of a few hundred KB.
    let bomb = f.write(
        "03-zip-bomb.xlsx",
        rezip(
            &workbook(&[]),
            |_, d| d,
            &[("xl/media/zeros.bin", vec![0u8; 128 << 20])],
        ),
    );
    // A chain of gzip members inflating to 7 GiB.
    let mut chain = gzip_of(b"date,school_code,class_code,student_id,status\n");
    let member = gzip_of(&vec![b'\n'; 64 << 20]);
    for _ in 0..112 {
        chain.extend_from_slice(&member);
    }
    let gz = f.write("04-gzip-chain.csv.gz", &chain);
    // JSON lines adding a key on every line.
    let mut json = String::new();
    for i in 0..2_000 {
        json.push_str(&format!(
            "{{\"date\":\"2026-09-01\",\"school_code\":\"S001\",\"student_id\":\"G{i}\",\"status\":\"present\",\"k{i}\":\"{}\"}}\n",
            "x".repeat(400)
        ));
    }
    let keys = f.write("05-new-keys.jsonl", json);
    // A cell of 3 MB.
    let big = f.write(
        "06-big-cell.csv",
        format!(
            "date,school_code,class_code,student_id,status\n2026-09-01,S001,101,G002,\"{}\"\n",
            "出".repeat(1_000_000)
        ),
    );
    // An XLS sheet claiming 1,048,576 × 16,384 cells; the same sheet hidden in the data of a
    // record no reader knows, where only its offset finds it; an honest sheet of 3.8 million
    // cells named forty times.
    let claims = f.write("07-claims.xls", xls(&[0], &xls_sheet(1 << 20, 16_384, &[])));
    let hidden = f.write(
        "08-hidden.xls",
        xls(&[4], &rec(0x1234, &xls_sheet(1 << 20, 16_384, &[]))),
    );
    let forty = f.write(
        "09-forty-times.xls",
        xls(&[0; 40], &xls_sheet(15_001, 255, &[(15_000, 254)])),
    );

    // One shared string of 4,000 characters shown in 70,000 cells: 280 MB of text from a
    // workbook of a few hundred KB.
    let shared = {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let long = "长".repeat(4_000);
        for (c, h) in ["date", "school_code", "class_code", "student_id", "status"]
            .iter()
            .enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for r in 1..=70_000 {
            ws.write_string(r, 4, &long).unwrap();
        }
        f.write("10-shared-string.xlsx", wb.save_to_buffer().unwrap())
    };
    // A JSON line holding an array of millions of numbers.
    let array = f.write(
        "11-array.jsonl",
        format!(
            "{{\"date\":\"2026-09-01\",\"school_code\":\"S001\",\"student_id\":\"G1\",\"status\":\"present\",\"a\":[{}]}}\n",
            vec!["7"; 3_000_000].join(",")
        ),
    );
    // Shared strings that say they are ten billion: a reader makes room for them first.
    let counted = f.write(
        "12-string-count.xlsx",
        rezip(
            &workbook(&[]),
            |name, data| {
                if name == "xl/sharedStrings.xml" {
                    let text = String::from_utf8(data).unwrap();
                    let at = text.find("uniqueCount=\"").unwrap() + 13;
                    let end = at + text[at..].find('"').unwrap();
                    format!("{}10000000000{}", &text[..at], &text[end..]).into_bytes()
                } else {
                    data
                }
            },
            &[],
        ),
    );
    // An XLS shared string of 65,535 characters (over CONTINUE records) shown in 5,000 cells:
    // a reader that copies it into each holds 650 MB.
    let long_string = {
        let mut sst = 1u32.to_le_bytes().to_vec();
        sst.extend_from_slice(&1u32.to_le_bytes());
        sst.extend_from_slice(&65_535u16.to_le_bytes());
        sst.push(0);
        let mut records = Vec::new();
        let mut left = 65_535usize;
        let first = (8224 - sst.len()).min(left);
        sst.extend(std::iter::repeat_n(b'a', first));
        left -= first;
        records.extend(rec(0x00FC, &sst));
        while left > 0 {
            let n = left.min(8223);
            let mut cont = vec![0u8];
            cont.extend(std::iter::repeat_n(b'a', n));
            records.extend(rec(0x003C, &cont));
            left -= n;
        }
        let mut sheet = xls_sheet(10, 5, &[]);
        sheet.truncate(sheet.len() - 4);
        for r in 1..=5_000u16 {
            let mut d = r.to_le_bytes().to_vec();
            d.extend_from_slice(&[0, 0, 0, 0]);
            d.extend_from_slice(&0u32.to_le_bytes());
            sheet.extend(rec(0x00FD, &d));
        }
        sheet.extend(rec(0x000A, &[]));
        f.write("13-long-string.xls", xls_with_strings(&records, &sheet))
    };
    // One row of 100,000 commas.
    let commas = f.write(
        "14-commas.csv",
        format!(
            "date,school_code,class_code,student_id,status\n{}\n",
            ",".repeat(100_000)
        ),
    );
    // A OneRoster bundle whose orgs.csv is 128 MiB of zeros.
    let roster_bomb = f.write("15-oneroster-bomb.zip", {
        use std::io::Write;
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        out.start_file("manifest.csv", deflated).unwrap();
        out.write_all(b"propertyName,value\noneroster.version,1.1\n")
            .unwrap();
        out.start_file("orgs.csv", deflated).unwrap();
        out.write_all(&vec![0u8; 128 << 20]).unwrap();
        out.finish().unwrap().into_inner()
    });
    // The billion laughs: entities that each hold ten of the one before.
    let laughs = f.write("16-entity-bomb.xml", {
        let mut xml =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
        for i in 1..=9 {
            let prev = if i == 1 {
                "lol".to_string()
            } else {
                format!("lol{}", i - 1)
            };
            xml.push_str(&format!(
                "<!ENTITY lol{i} \"{}\">\n",
                format!("&{prev};").repeat(10)
            ));
        }
        xml.push_str("]>\n<lolz><r><x>&lol9;</x></r></lolz>\n");
        xml
    });
    let o = limited(
        &f,
        &[],
        &[
            "ingest",
            "--dataset",
            "attendance",
            f.dir.path().join("in").to_str().unwrap(),
        ],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "rejected files exit 1:\n{out}");
    let line = |p: &Path| -> String {
        let name = p.file_name().unwrap().to_str().unwrap();
        out.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{out}"))
            .to_string()
    };
    assert!(line(&good).contains("stored 1 of 1"), "{out}");
    for (file, words) in [
        (&far_cell, "column XFD; at most 256 columns"),
        (&bad_ref, "names a cell ZZZZZZZ1 that no sheet can have"),
        (&bomb, "unpacks to more than 100 times"),
        (&gz, "unpacks to more than"),
        (&keys, "more than 256 different keys"),
        (
            &big,
            "row 2, column E: a cell of more than 4,096 characters",
        ),
        (&claims, "1,048,576 rows × 16,384 columns"),
        (&hidden, "1,048,576 rows × 16,384 columns"),
        (&forty, "span 7,650,510 cells"),
        (&shared, "more than 256 MiB of text"),
        (&array, "row 1 is 5 MiB long; at most 4 MiB"),
        (&counted, "says it has 10,000,000,000 shared strings"),
        (&long_string, "hold more than 256 MiB of text"),
        (&commas, "row 2 has more than 256 columns"),
        (&laughs, "declares its own entities (<!ENTITY on line 3)"),
        (&roster_bomb, "a OneRoster bundle (read as `schools`"),
    ] {
        let l = line(file);
        assert!(l.contains("REJECTED") && l.contains(words), "{l}\n{out}");
    }
    // The OneRoster bomb, asked for as the roster it claims to hold (as attendance it is not
    // unpacked at all).
    let o = limited(
        &f,
        &[],
        &[
            "ingest",
            "--dataset",
            "enrolment",
            "--as-of",
            "2026-09-01",
            roster_bomb.to_str().unwrap(),
        ],
    );
    let bombed = text(&o);
    assert!(
        bombed.contains("REJECTED")
            && bombed.contains("the OneRoster bundle unpacks to more than 100 times"),
        "{bombed}"
    );
    let rows = f.cli(&[
        "sql",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM raw_attendance",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&rows.stdout),
        "n\n1\n",
        "only the good row"
    );
}

/// A date a typo makes (`0001-01-01`, `-2026-09-01`, `2999-01-01`) is a bad value, rejected
/// with its row; the rest of the file is stored.
#[test]
fn implausible_dates_are_rejected_by_row() {
    let f = Fixture::new();
    let file = f.write(
        "考勤.csv",
        "日期,学校代码,班级,学籍号,考勤状态\n\
         2026-09-01,S001,101,G001,出勤\n\
         0001-01-01,S001,101,G002,出勤\n\
         -2026-09-01,S001,101,G003,出勤\n\
         2999-01-01,S001,101,G004,出勤\n\
         1999-12-31,S001,101,G005,出勤\n\
         2026-09-02,S001,101,G001,出勤\n",
    );
    let o = f.cli(&["ingest", "--dataset", "attendance", file.to_str().unwrap()]);
    let out = text(&o);
    assert!(out.contains("stored 2 of 6 rows"), "{out}");
    let report = only_reject_report(&f, "attendance");
    assert!(
        report.contains("0001-01-01 is before 2000-01-01"),
        "{report}"
    );
    assert!(
        report.contains("'-2026-09-01"),
        "a sign is kept as sent, made safe: {report}"
    );
    assert!(report.contains("is not a date"), "{report}");
    assert!(report.contains("2999-01-01 is in the future"), "{report}");
    assert!(
        report.contains("1999-12-31 is before 2000-01-01"),
        "{report}"
    );

    // A roster dated in the future: by the upload or by its rows.
    let roster = f.write(
        "花名册.csv",
        "学籍号,学校代码,班级,年级,性别,快照日期\nG001,S001,101,1,男,2999-01-01\nG002,S001,101,1,女,2026-09-01\n",
    );
    let o = f.cli(&[
        "ingest",
        "--dataset",
        "enrolment",
        "--as-of",
        "2999-01-01",
        roster.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("--as-of: 2999-01-01 is in the future"),
        "{}",
        text(&o)
    );
    let o = f.cli(&["ingest", "--dataset", "enrolment", roster.to_str().unwrap()]);
    assert!(text(&o).contains("stored 1 of 2 rows"), "{}", text(&o));
}

/// With the window widened to year 1 (a bureau may set it), a row of 0001-01-01 is kept; the
/// lake then spans two thousand years, and no read or build costs more for it: each runs in
/// seconds under the address-space limit.
#[test]
fn a_lake_spanning_two_thousand_years_costs_what_its_data_costs() {
    let f = Fixture::new();
    let file = f.write(
        "考勤.csv",
        "日期,学校代码,班级,学籍号,考勤状态\n0001-01-01,S001,101,G001,出勤\n2026-09-01,S001,101,G001,出勤\n2026-09-02,S001,101,G002,缺勤\n",
    );
    let wide = [("EDULAKE_EARLIEST_DATE", "0001-01-01")];
    let o = limited(
        &f,
        &wide,
        &["ingest", "--dataset", "attendance", file.to_str().unwrap()],
    );
    assert!(text(&o).contains("stored 3 of 3 rows"), "{}", text(&o));
    let started = std::time::Instant::now();
    for args in [
        vec!["sql", "SELECT 1"],
        vec!["build"],
        vec!["sql", "--format", "csv", "SELECT count(*) FROM attendance"],
        vec![
            "export",
            "--indicator",
            "attendance_rate",
            "--grain",
            "month",
            "--from",
            "2026-01-01",
        ],
        vec!["export", "--indicator", "enrolled", "--grain", "total"],
        vec!["alerts"],
    ] {
        let o = limited(&f, &wide, &args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    // A day-grain export over the whole span asks for 739,000 periods: refused, not tried.
    let o = limited(
        &f,
        &wide,
        &["export", "--indicator", "attendance_rate", "--grain", "day"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("at most 10000"), "{}", text(&o));
    assert!(
        started.elapsed().as_secs() < 120,
        "took {:?}",
        started.elapsed()
    );
}

/// A cell that Excel would run as a formula (`=`, `+`, `-`, `@`) comes out of every CSV edulake
/// writes as text: exports, `sql`, the cockpit's downloads and its SQL endpoint, and reject
/// reports, which quote what a clerk sent.
#[tokio::test]
async fn csv_cells_never_come_out_as_formulas() {
    let f = Fixture::new();
    let schools = f.write(
        "学校.csv",
        "学校代码,学校名称,区县,学段\nS001,\"=HYPERLINK(\"\"http://x.example\"\",\"\"点我\"\")\",@长安区,小学\n",
    );
    let attendance = f.write(
        "考勤.csv",
        "日期,学校代码,班级,学籍号,考勤状态\n2026-09-01,S001,101,G001,出勤\n2026-09-01,S001,101,G002,=1+1\n",
    );
    for (d, p) in [("schools", &schools), ("attendance", &attendance)] {
        let o = f.cli(&["--quiet", "ingest", "--dataset", d, p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let formula = |csv: &str, what: &str| {
        for line in csv.lines() {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '@']),
                    "{what}: a live formula in {line}"
                );
            }
        }
        assert!(csv.contains("'=HYPERLINK"), "{what}: {csv}");
    };
    let o = f.cli(&[
        "export",
        "--indicator",
        "attendance_rate",
        "--level",
        "school",
    ]);
    formula(&String::from_utf8_lossy(&o.stdout), "export");
    let o = f.cli(&[
        "sql",
        "--format",
        "csv",
        "SELECT school_name, district FROM schools",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    formula(&out, "sql");
    assert!(out.contains("'@长安区"), "{out}");
    let report = only_reject_report(&f, "attendance");
    assert!(report.contains(",'=1+1,"), "{report}");

    let state = cockpit(&f).await;
    for uri in [
        "/download?indicator=attendance_rate&level=school&grain=total&format=csv",
        "/sql?q=SELECT%20school_name%20FROM%20schools&format=csv",
    ] {
        let (status, body) = cockpit_get(&state, uri).await;
        assert_eq!(status, axum::http::StatusCode::OK, "{uri}");
        formula(&String::from_utf8_lossy(&body), uri);
    }
}
