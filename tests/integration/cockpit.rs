//! The cockpit's router, called without a socket: every page, its links and its downloads.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use edulake_serve::web::{app, AppState};

use crate::common::*;

async fn get(state: &Arc<AppState>, uri: &str) -> (StatusCode, Vec<u8>) {
    cockpit_get(state, uri).await
}

/// Internal links of a page (`href="/…"`), unescaped.
pub(crate) fn links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|h| h.starts_with('/'))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn every_page_link_and_download_works() {
    let f = Fixture::new();
    crate::privacy::ingested_messy_district(&f);
    let o = f.cli(&["--quiet", "build"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let state = cockpit(&f).await;

    let (status, body) = get(&state, "/").await;
    let overview = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{overview}");
    for word in [
        "总览",
        "出勤率",
        "健康打卡率",
        "今日未报送学校",
        "聚集性预警",
        "学校分布图",
        "下载 CSV",
    ] {
        assert!(overview.contains(word), "{word} missing from the overview");
    }
    assert!(
        overview.matches("<svg").count() >= 4,
        "trend charts, comparison and map"
    );
    assert!(!overview.contains('⟨'), "an untranslated key");

    // Every link of the overview, then every link of each district page, answers; a Chinese
    // page holds no English word beyond a short list (data aside).
    assert_eq!(
        english_words("<p class=\"hint\">出勤率 Attendance <b>rate</b> 下载 CSV</p>"),
        ["Attendance", "rate"].map(String::from).into()
    );
    let mut english: std::collections::BTreeSet<String> = english_words(&overview);
    let mut seen = std::collections::HashSet::new();
    let mut queue = links(&overview);
    let mut pages = 0;
    while let Some(href) = queue.pop() {
        if !seen.insert(href.clone()) || seen.len() > 60 {
            continue;
        }
        let (status, body) = get(&state, &href).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{href}: {}",
            String::from_utf8_lossy(&body)
        );
        let is_page = !href.starts_with("/download")
            && !href.starts_with("/rejects")
            && !href.starts_with("/template")
            && !href.starts_with("/assets")
            && !href.contains("lang=en");
        if is_page {
            for w in english_words(&String::from_utf8_lossy(&body)) {
                english.insert(format!("{w} ({href})"));
            }
        }
        if href.starts_with("/district/") {
            pages += 1;
            let page = String::from_utf8(body).unwrap();
            assert!(!page.contains('⟨'), "{href}");
            queue.extend(links(&page));
        } else if href.starts_with("/notices") || href.starts_with("/data") {
            pages += 1;
            let page = String::from_utf8(body).unwrap();
            assert!(!page.contains('⟨'), "{href}");
            queue.extend(
                links(&page)
                    .into_iter()
                    .filter(|h| !h.starts_with("/school/")),
            );
        } else if href.starts_with("/school/") && !href.contains("lang=en") {
            pages += 1;
            let page = String::from_utf8(body).unwrap();
            for word in [
                "各班出勤",
                "在籍学生（按年级）",
                "生师比",
                "长期缺勤率",
                "各通知查阅率",
            ] {
                assert!(page.contains(word), "{word} missing from {href}");
            }
        }
    }
    assert!(
        pages >= 6,
        "district, school, notices and data pages were followed"
    );
    assert!(english.is_empty(), "English on Chinese pages: {english:?}");
    for href in ["/notices", "/data", "/upload"] {
        assert!(seen.iter().any(|h| h.starts_with(href)), "{href} is linked");
    }

    // A parameter no page reads does not make another page: twenty junk URLs of the overview
    // are the overview already rendered.
    let before = state.cached_pages().await;
    for i in 0..20 {
        for uri in [
            format!("/?junk={i}&lang=zh&utm={i}"),
            format!("/?school=X{i}&district=Y{i}&notice=Z{i}"),
        ] {
            let (status, _) = get(&state, &uri).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = get(&state, &format!("/district/nowhere{i}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        state.cached_pages().await,
        before,
        "junk parameters bypass the cache"
    );

    // English, one click away, on every page.
    let en_href = links(&overview)
        .into_iter()
        .find(|h| h.contains("lang=en"))
        .expect("a link to English");
    let (status, body) = get(&state, &en_href).await;
    let english = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK);
    for word in [
        "Overview",
        "Attendance rate",
        "Schools that have not reported today",
        "Download CSV",
        "中文",
    ] {
        assert!(
            english.contains(word),
            "{word} missing from the English overview"
        );
    }
    assert!(!english.contains("总览") && !english.contains('⟨'));

    // A download's CSV with machine headers is `edulake export` for the same filters, with a
    // BOM for Excel.
    let (from, to) = ("2026-09-28", "2026-10-09");
    let (status, csv) = get(
        &state,
        &format!("/download?indicator=attendance_rate&level=district&grain=week&from={from}&to={to}&format=csv&headers=machine"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let cli = f.cli(&[
        "export",
        "--indicator",
        "attendance_rate",
        "--level",
        "district",
        "--grain",
        "week",
        "--from",
        from,
        "--to",
        to,
    ]);
    assert_eq!(
        csv.strip_prefix('\u{feff}').unwrap(),
        String::from_utf8_lossy(&cli.stdout)
    );
    let (status, xlsx) = get(&state, "/download?indicator=enrolled&by=gender&format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx.starts_with(b"PK"), "an xlsx is a zip");
    let (status, alerts) = get(&state, "/download?table=alerts&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(alerts)
        .unwrap()
        .starts_with("\u{feff}类型,区县,学校代码,学校名称,班级,日期,人数"));
    crate::downloads::downloads_read_as_people_expect(&state, from, to).await;

    // The notices page: every notice, then one notice by school; its downloads are the
    // export's rows of that notice.
    let (status, body) = get(&state, &format!("/notices?from={from}&to={to}")).await;
    let notices = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{notices}");
    for word in [
        "各通知查阅情况",
        "查阅率",
        "24小时查阅率",
        "查阅时长中位数（小时）",
    ] {
        assert!(
            notices.contains(word),
            "{word} missing from the notices page"
        );
    }
    let one = links(&notices)
        .into_iter()
        .find(|h| h.starts_with("/notices?notice="))
        .expect("a link to a notice");
    let (status, body) = get(&state, &one).await;
    let page = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("各学校查阅情况") && page.contains("<svg"),
        "{page}"
    );
    let notice_id = one
        .split("notice=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let download = links(&page)
        .into_iter()
        .find(|h| h.contains("indicator=notice_read_rate") && h.contains("format=csv"))
        .expect("the read rate download");
    let (status, csv) = get(&state, &format!("{download}&headers=machine")).await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let cli = f.cli(&[
        "export",
        "--indicator",
        "notice_read_rate",
        "--level",
        "school",
        "--by",
        "notice",
        "--from",
        from,
        "--to",
        to,
    ]);
    let cli = String::from_utf8(cli.stdout).unwrap();
    let mut cli_lines = cli.lines();
    let header = cli_lines.next().unwrap();
    let col = header.split(',').position(|c| c == "notice_id").unwrap();
    let expected: Vec<&str> = std::iter::once(header)
        .chain(cli_lines.filter(|l| l.split(',').nth(col) == Some(notice_id.as_str())))
        .collect();
    assert!(expected.len() > 2, "the notice reached several schools");
    assert_eq!(
        csv.strip_prefix('\u{feff}')
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        expected
    );

    // The data page: the latest date of each dataset per school, and the batches.
    let (status, body) = get(&state, "/data").await;
    let data = String::from_utf8(body).unwrap();
    assert_eq!(status, StatusCode::OK, "{data}");
    for word in [
        "各校最新报送日期",
        "已接收的批次",
        "考勤",
        "健康打卡",
        "拒收报告",
    ] {
        assert!(data.contains(word), "{word} missing from the data page");
    }
    let (status, batches) = get(&state, "/download?table=batches&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let batches = String::from_utf8(batches).unwrap();
    let count: usize = f.query("SELECT count(*) FROM batches").await[0][0]
        .parse()
        .unwrap();
    assert!(
        count > 3 && batches.lines().count() == count + 1,
        "{batches}"
    );
    // A school's batches: those holding its rows (files of many schools included).
    let (_, mine) = get(
        &state,
        "/download?table=batches&school=1301000001&format=csv",
    )
    .await;
    let mine = String::from_utf8(mine).unwrap();
    // School 1301000001 sends class reports (the generator's real shapes).
    let attendance = mine
        .lines()
        .filter(|l| l.contains(",class_report,"))
        .count();
    assert!(
        attendance >= 1 && mine.lines().count() < count + 1,
        "{mine}"
    );

    // The SQL endpoint answers as `edulake sql`.
    let (status, out) = get(&state, "/sql?q=SELECT%20count(*)%20AS%20n%20FROM%20schools").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(out).unwrap(), "n\n6\n");
    let (status, _) = get(&state, "/sql?q=DROP%20TABLE%20schools").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The 催报 list's download: the schools in scope without attendance on its day.
    let missing = links(&overview)
        .into_iter()
        .find(|h| h.contains("table=missing") && h.contains("format=csv"))
        .expect("the 催报 list has a download");
    let (status, csv) = get(&state, &missing).await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let day = missing
        .split("day=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let expected = f
        .query(&format!(
            "SELECT count(*) FROM schools WHERE school_code NOT IN (SELECT school_code FROM attendance WHERE date = DATE '{day}' \
             UNION SELECT school_code FROM class_report WHERE date = DATE '{day}' \
             UNION SELECT school_code FROM raw_attendance_exceptions WHERE date = DATE '{day}')"
        ))
        .await[0][0]
        .parse::<usize>()
        .unwrap();
    assert!(csv.starts_with("\u{feff}区县,学校代码,学校名称"), "{csv}");
    assert_eq!(csv.lines().count(), expected + 1, "{csv}");
    // The reporting page's schools per day agree with the list: reporting + not = all.
    let layer = edulake_transform::QueryLayer::open(&f.reader)
        .await
        .unwrap();
    let on = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    let scope = edulake_transform::reads::Scope::Bureau;
    let (schema, batches) = layer
        .schools_reporting_by_day(&scope, None, on - chrono::Duration::days(6), on)
        .await
        .unwrap();
    let per_day = rows(&batches);
    assert_eq!(schema.field(0).name(), "date");
    let reporting: usize = per_day
        .iter()
        .find(|r| r[0] == day)
        .map_or(0, |r| r[1].parse().unwrap());
    let (_, all) = layer.schools_reporting(&scope, None, &[on]).await.unwrap();
    assert_eq!(reporting + expected, all as usize, "{per_day:?}");

    // Pages are sent gzipped to browsers that take it.
    let response = app(state.clone())
        .oneshot(
            Request::builder()
                .uri("/")
                .header("accept-encoding", "gzip, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let gz = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap();
    let mut html = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut html).unwrap();
    assert_eq!(html, overview);

    // Wrong requests are said so, in the page's language.
    assert_eq!(get(&state, "/school/NOPE").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&state, "/nowhere?lang=en").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = get(&state, "/?from=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8(body).unwrap().contains("yesterday"));
    assert_eq!(
        get(&state, "/download?indicator=nope").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(get(&state, "/assets/style.css").await.0, StatusCode::OK);
}

/// A multipart form as a browser sends it.
fn form(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----edulake-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post(
    state: &Arc<AppState>,
    uri: &str,
    (content_type, body): (String, Vec<u8>),
) -> (StatusCode, String) {
    // The form's token of the upload page, first, as a browser sends it.
    let (_, page) = get(state, "/upload").await;
    let page = String::from_utf8(page).unwrap();
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the upload form's token");
    let boundary = content_type.split("boundary=").nth(1).unwrap();
    let mut sent =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n")
            .into_bytes();
    sent.extend_from_slice(&body);
    let body = sent;
    let response = app(state.clone())
        .oneshot(
            Request::builder()
                .method("POST")
                .uri(uri)
                .header("content-type", content_type)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn a_clerk_uploads_a_day_and_the_cockpit_shows_it() {
    let f = Fixture::new();
    crate::privacy::ingested_messy_district(&f);
    assert!(f.cli(&["--quiet", "build"]).status.success());
    let state = cockpit(&f).await;
    let school = f
        .query("SELECT school_code FROM schools ORDER BY school_code LIMIT 1")
        .await[0][0]
        .clone();
    let (status, page) = get(&state, "/upload").await;
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("type=\"file\""));
    let before = String::from_utf8(get(&state, "/").await.1).unwrap();
    assert!(!before.contains("2026-10-12"));

    // One school-day, with one row that cannot be stored.
    let day = format!(
        "日期,学校代码,班级,学籍号,考勤状态,姓名\n2026-10-12,{school},101,T001,出勤,王浩\n\
         2026-10-12,{school},101,T002,缺勤,李欣\n2026-10-12,{school},101,T003,飞走了,张三\n"
    );
    let (status, result) = post(
        &state,
        "/upload",
        form(
            &[("dataset", "attendance")],
            &[("考勤10月12日.csv", day.as_bytes())],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    // A file with a row rejected is not "stored" in green: counts first, in the colour of
    // what the clerk must do, and the file's details open.
    assert!(
        result.contains("考勤10月12日.csv")
            && result.contains("<span class=\"partly\">部分入库：1 行被拒收</span>")
            && result.contains("<p class=\"outcome partly\">1 个文件部分行被拒收")
            && result.contains("<details open>")
            && !result.contains("class=\"ok\""),
        "{result}"
    );
    assert!(!result.contains("王浩"), "the result page shows no name");
    let report = links(&result)
        .into_iter()
        .find(|h| h.starts_with("/rejects/"))
        .expect("a reject report link");
    let (status, csv) = get(&state, &report).await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("飞走了") && csv.lines().count() == 2,
        "{csv}"
    );

    // The same file again: already ingested; an empty form: said so.
    let (_, again) = post(
        &state,
        "/upload?lang=en",
        form(
            &[("dataset", "attendance")],
            &[("again.csv", day.as_bytes())],
        ),
    )
    .await;
    assert!(again.contains("Already ingested"), "{again}");
    let (status, empty) = post(&state, "/upload", form(&[("dataset", "attendance")], &[])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(empty.contains("请选择要上传的文件"), "{empty}");
    let (_, no_dataset) = post(
        &state,
        "/upload",
        form(&[("dataset", "nope")], &[("x.csv", b"a,b\n")]),
    )
    .await;
    assert!(no_dataset.contains("请选择数据类型"), "{no_dataset}");

    // The cockpit shows the new day once refreshed (the upload starts that itself).
    for _ in 0..100 {
        if String::from_utf8(get(&state, "/").await.1)
            .unwrap()
            .contains("2026-10-12")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after = String::from_utf8(get(&state, "/").await.1).unwrap();
    assert!(
        after.contains("最新日期 2026-10-12"),
        "the tiles describe the uploaded day"
    );
    let data = String::from_utf8(get(&state, &format!("/data?school={school}")).await.1).unwrap();
    assert!(
        data.contains("考勤10月12日.csv") && data.contains("2026-10-12"),
        "{data}"
    );
}

/// Stops the demo when the test ends, passed or not.
struct Demo(std::process::Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `edulake demo` in a real browser (tests/python/browser.py, Debian's Chromium): every page,
/// its charts and links, a drill-down, both languages, a phone screen and an upload.
/// Screenshots are kept in tests/artefacts/screenshots.
#[test]
fn the_demo_in_a_browser() {
    use std::io::BufRead;
    let f = Fixture::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edulake"))
        .current_dir(f.dir.path())
        .env_remove("EDULAKE_KEY")
        .env("EDULAKE_LAKE", f.lake_path())
        .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
        .args([
            "demo",
            "--addr",
            "127.0.0.1:0",
            "--schools",
            "8",
            "--students",
            "2400",
            "--days",
            "25",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run edulake demo");
    let stdout = child.stdout.take().unwrap();
    let demo = Demo(child);
    let mut printed = String::new();
    let mut url = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(at) = line.find("http://") {
            url = line[at..].split_whitespace().next().map(str::to_string);
            break;
        }
    }
    let url = url.unwrap_or_else(|| panic!("the demo printed no URL:\n{printed}"));
    // The accounts it printed: a login, a password of 16, the role.
    let account = |login: &str| {
        printed
            .lines()
            .find_map(|l| {
                let mut words = l.split_whitespace();
                (words.next() == Some(login)).then(|| words.next().unwrap().to_string())
            })
            .unwrap_or_else(|| panic!("the demo printed no account {login}:\n{printed}"))
    };
    let (admin, clerk) = (account("admin"), account("clerk"));
    let (officer, researcher) = (account("officer"), account("researcher"));
    assert_eq!(admin.len(), 16);
    let school = f.cli(&[
        "sql",
        "--format",
        "csv",
        "SELECT school_code FROM schools ORDER BY school_code LIMIT 1",
    ]);
    let school = String::from_utf8(school.stdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let today = edulake_ingest::values::today(edulake_ingest::bureau_tz().unwrap());
    let upload = f.write(
        "今日考勤.csv",
        format!(
            "日期,学校代码,班级,学籍号,考勤状态\n{today},{school},101,T001,出勤\n{today},{school},101,T002,病假\n{today},{school},101,T003,不知道\n"
        ),
    );
    let artefacts = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/artefacts/screenshots"
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python/browser.py");
    let out = std::process::Command::new("python3")
        .args([
            script,
            &url,
            artefacts,
            upload.to_str().unwrap(),
            "admin",
            &admin,
            "clerk",
            &clerk,
            "officer",
            &officer,
            "researcher",
            &researcher,
        ])
        .output()
        .expect("python3 must be installed (tests/setup.sh installs what the tests need)");
    drop(demo);
    let _ = std::fs::write(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/artefacts/browser.log"
        ),
        [&out.stdout[..], &out.stderr[..]].concat(),
    );
    assert!(
        out.status.success(),
        "the browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The upload page takes an absence register: its box, date and class, as a clerk fills them
/// in; the register counts once the school's roster is in, and the page says when it is not.
#[tokio::test]
async fn a_clerk_uploads_an_absence_register() {
    let f = Fixture::new();
    let roster = f.write(
        "名册.csv",
        (1..=20)
            .map(|i| format!("G{i:02},E1,7,七年级(1)班,男,2026-09-01\n"))
            .fold(
                String::from("学籍号,学校代码,年级,班级,性别,快照日期\n"),
                |a, b| a + &b,
            ),
    );
    f.ingest("enrolment", edulake_ingest::Upload::default(), &[roster])
        .await;
    let state = cockpit(&f).await;
    let register = "学籍号,姓名,缺勤类型\nG03,张三,病假\nG07,李四,事假\nG11,王五,旷课\n".as_bytes();
    let fields = |school: &'static str| {
        vec![
            ("dataset", "attendance"),
            ("exceptions", "1"),
            ("school", school),
            ("date", "2026-10-12"),
            ("class", "七年级(1)班"),
        ]
    };
    let (status, page) = post(
        &state,
        "/upload",
        form(&fields("E1"), &[("缺勤登记.csv", register)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("已入库") && !page.contains("没有生效的学籍名册"),
        "{page}"
    );
    assert_eq!(
        f.query("SELECT numerator, denominator FROM (SELECT sum(CASE WHEN attended THEN 1 ELSE 0 END) AS numerator, count(*) AS denominator FROM attendance_rows)").await,
        vec![vec!["17", "20"]]
    );
    // A school with no roster: stored, and the clerk is told what is missing.
    let (status, page) = post(
        &state,
        "/upload",
        form(&fields("E2"), &[("缺勤登记.csv", register)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("学校 E2 在 2026-10-12 没有生效的学籍名册"),
        "{page}"
    );
    // The box is for attendance only.
    let mut wrong = fields("E1");
    wrong[0] = ("dataset", "health_report");
    let (_, page) = post(&state, "/upload", form(&wrong, &[("x.csv", register)])).await;
    assert!(page.contains("只适用于考勤"), "{page}");
    // The Data page says which shape E1's day was counted from: one class-day by register.
    state.refresh().await.unwrap();
    let (status, page) = cockpit_get(&state, "/data?school=E1&from=2026-10-01&to=2026-10-15").await;
    let page = String::from_utf8(page).unwrap();
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("各校各日的报送形式"), "{page}");
    let shapes = page.split("各校各日的报送形式").nth(1).unwrap();
    assert!(
        shapes.contains("<td>2026-10-12</td><td></td><td>1</td><td></td><td></td>"),
        "{shapes}"
    );
}

/// The English words a Chinese page shows: words of three or more Latin letters in its text
/// (tags, the style sheet and charts' drawing aside), but for a short list of names.
fn english_words(page: &str) -> std::collections::BTreeSet<String> {
    const ALLOWED: &[&str] = &["CSV", "Excel", "English", "SQL", "edulake", "JSON"];
    page_text(page)
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3 && !ALLOWED.contains(w))
        .map(String::from)
        .collect()
}
