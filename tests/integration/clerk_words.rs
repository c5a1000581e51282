//! A clerk reads ingest's messages in Chinese (the default) or English, from the one
//! catalogue: the upload page's rejected rows and files, the reject report downloaded, and the
//! command line (`--lang`, or the locale).

use axum::http::StatusCode;
use edulake_transform::access::Role;
use edulake_transform::reads::Scope;

use crate::common::*;
use crate::profiles::with_schools;
use crate::web_client::*;

/// Words the English messages use that a Chinese page must not show.
const ENGLISH: &[&str] = &[
    "is not a",
    "expected",
    "required",
    "missing",
    "rejected",
    "columns found",
    "attendance_status",
];

/// Checks the text a person reads (not the markup) holds none of [`ENGLISH`].
fn no_english(page: &str, what: &str) {
    let text = page_text(page);
    for w in ENGLISH {
        assert!(
            !text.contains(w),
            "{what}: the Chinese page says {w:?}:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_clerk_fixes_a_file_from_chinese_messages_alone() {
    let f = with_schools().await;
    let state = cockpit(&f).await;
    let clerk = signed_in(
        &state,
        "clerk",
        Role::SchoolClerk,
        Scope::School("P1".into()),
    );
    // Eight rows, six good: an unknown status and a date that is not one.
    let register = "日期,班级,学籍号,考勤状态\n\
        2026-11-16,7-1,G1,出勤\n2026-11-16,7-1,G2,请假?\n2026-11-16,7-1,G3,迟到\n\
        2026-11-16,7-1,G4,出勤\n2026-13-45,7-1,G5,出勤\n2026-11-16,7-1,G6,病假\n\
        2026-11-16,7-1,G7,出勤\n2026-11-16,7-1,G8,出勤\n";
    let (ct, body) = upload_form(&clerk.csrf, &[("dataset", "attendance")], register);
    let a = send(&state, &clerk, "POST", "/upload", Some(&ct), body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    for said in [
        "部分入库：2 行被拒收",
        "a.csv：2 行被拒收（以下是前 2 个问题）；改正后重新上传",
        "“请假?”不是有效的考勤状态（可填：出勤、迟到、早退、缺勤、病假、事假）",
        "“2026-13-45”不是日期（应写作 2026-09-01、2026/9/1、20260901 或 2026年9月1日）",
    ] {
        assert!(a.body.contains(said), "{said}:\n{}", a.body);
    }
    let result = a.body.split("<main>").nth(1).unwrap_or_default();
    no_english(result, "rows rejected");

    // The reject report in the page's language, with that language's headers.
    let batch = a
        .body
        .split("/rejects/")
        .nth(1)
        .and_then(|r| r.split('?').next())
        .expect("a link to the reject report")
        .to_string();
    let zh = get(&state, &clerk, &format!("/rejects/{batch}?lang=zh")).await;
    assert_eq!(zh.status, StatusCode::OK, "{}", zh.body);
    let zh_lines: Vec<&str> = zh.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(zh_lines[0], "行号,列,值,原因", "{}", zh.body);
    assert!(zh.body.contains("不是有效的考勤状态"), "{}", zh.body);
    no_english(&zh.body, "the reject report");
    let en = get(&state, &clerk, &format!("/rejects/{batch}?lang=en")).await;
    let en_lines: Vec<&str> = en.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(en_lines[0], "Row,Column,Value,Reason", "{}", en.body);
    assert!(
        en.body
            .contains("is not a known attendance status (expected one of: present (出勤)"),
        "{}",
        en.body
    );
    assert_eq!(zh_lines.len(), 3);
    assert_eq!(en_lines.len(), 3);

    // A file rejected whole says why in Chinese: the column it lacks, in its Chinese word.
    let (ct, body) = upload_form(
        &clerk.csrf,
        &[("dataset", "attendance")],
        "日期,学籍号,考勤状态\n2026-11-16,G1,出勤\n",
    );
    let a = send(&state, &clerk, "POST", "/upload", Some(&ct), body).await;
    assert!(
        a.body
            .contains("不是考勤（attendance）文件：缺少必需的列：班级（class_code）"),
        "{}",
        a.body
    );
    no_english(
        a.body.split("<main>").nth(1).unwrap_or_default(),
        "rejected whole",
    );
    // And a file that is no table names what it is.
    let (ct, body) = upload_form(&clerk.csrf, &[("dataset", "attendance")], "[{\"日期\": 1}]");
    let a = send(&state, &clerk, "POST", "/upload", Some(&ct), body).await;
    assert!(a.body.contains("不支持的文件格式：JSON 数组"), "{}", a.body);

    // The Data page lists the files rejected whole, with why: to the school's clerk, not to
    // another school's.
    let data = get(&state, &clerk, "/data?school=P1").await;
    assert_eq!(data.status, StatusCode::OK, "{}", data.body);
    let listed = data
        .body
        .split("整个被拒收的文件")
        .nth(1)
        .unwrap_or_else(|| panic!("no files rejected whole:\n{}", data.body));
    assert!(
        listed.contains("缺少必需的列：班级（class_code）"),
        "{listed}"
    );
    assert!(listed.contains("不支持的文件格式：JSON 数组"), "{listed}");
    assert!(!listed.contains("/tmp"), "no server folders: {listed}");
    let other = signed_in(
        &state,
        "clerk2",
        Role::SchoolClerk,
        Scope::School("P2".into()),
    );
    let theirs = get(&state, &other, "/data?school=P2").await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
    assert!(!theirs.body.contains("整个被拒收的文件"), "{}", theirs.body);

    // The same file in English says the same in English.
    let (ct, body) = upload_form(
        &clerk.csrf,
        &[("dataset", "attendance")],
        "日期,学籍号,考勤状态\n2026-11-16,G1,出勤\n",
    );
    let a = send(&state, &clerk, "POST", "/upload?lang=en", Some(&ct), body).await;
    assert!(
        a.body
            .contains("not a `attendance` file: required column(s) missing: class_code"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn the_command_line_speaks_the_language_asked_for_or_the_locale() {
    let f = Fixture::new();
    let p = f.write(
        "考勤.csv",
        "日期,学校代码,班级,学籍号,考勤状态\n2026-11-16,S1,7-1,G1,出勤\n2026-11-16,S1,7-1,G2,请假?\n",
    );
    let run = |args: &[&str], locale: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_edulake"))
            .current_dir(f.dir.path())
            .env_remove("EDULAKE_KEY")
            .env("EDULAKE_LAKE", f.lake_path())
            .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
            .env("LC_ALL", locale)
            .args(args)
            .output()
            .expect("run edulake");
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let path = p.to_str().unwrap();
    // A locale that is not English gives Chinese, the default.
    let zh = run(
        &["ingest", "--dataset", "attendance", "--dry-run", path],
        "C.UTF-8",
    );
    for said in [
        "试运行，没有入库：将入库 2 行中的 1 行，拒收 1 行",
        "第 3 行，考勤状态：“请假?”：“请假?”不是有效的考勤状态",
        "读取 1 个文件；试运行：没有入库",
    ] {
        assert!(zh.contains(said), "{said}:\n{zh}");
    }
    let en = run(
        &["ingest", "--dataset", "attendance", "--dry-run", path],
        "en_US.UTF-8",
    );
    assert!(
        en.contains("row 3, 考勤状态: \"请假?\": '请假?' is not a known attendance status"),
        "{en}"
    );
    // `--lang` wins over the locale.
    let asked = run(
        &[
            "--lang",
            "zh",
            "ingest",
            "--dataset",
            "attendance",
            "--dry-run",
            path,
        ],
        "en_US.UTF-8",
    );
    assert!(asked.contains("不是有效的考勤状态"), "{asked}");
    let stored = run(
        &["--lang", "en", "ingest", "--dataset", "attendance", path],
        "zh_CN.UTF-8",
    );
    assert!(
        stored.contains("1 file(s): 1 stored (1 rows, 1 rows rejected)"),
        "{stored}"
    );
}

/// Every message key the code says is in the catalogue, in both languages (the catalogue's own
/// test checks both languages name the same arguments).
#[test]
fn every_message_the_code_says_is_in_the_catalogue() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut used = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    for dir in ["schemas/src", "ingest/src", "serve/src", "transform/src"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
    }
    for p in &files {
        let whole = std::fs::read_to_string(p).unwrap();
        // The code itself: not its tests, nor the words of its documentation.
        let text: String = whole
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for opener in ["msg!(", "Msg::new("] {
            for part in text.split(opener).skip(1) {
                let key = part
                    .trim_start()
                    .strip_prefix('"')
                    .and_then(|r| r.split('"').next());
                if let Some(k) = key {
                    used.insert(k.to_string());
                }
            }
        }
        // Keys chosen from a table: the formats a file may be, the command line's lines.
        for part in text.split('"').skip(1).step_by(2) {
            if part.starts_with("fmt_") || part.starts_with("cli_") {
                used.insert(part.to_string());
            }
        }
    }
    assert!(used.len() > 100, "{used:?}");
    let missing: Vec<&String> = used
        .iter()
        .filter(|k| {
            let m = edulake_schemas::words::Msg::new(
                Box::leak(k.to_string().into_boxed_str()),
                Vec::new(),
            );
            m.render(edulake_schemas::words::Lang::Zh).starts_with('⟨')
                || m.render(edulake_schemas::words::Lang::En).starts_with('⟨')
        })
        .collect();
    assert!(missing.is_empty(), "not in the catalogue: {missing:?}");
}
