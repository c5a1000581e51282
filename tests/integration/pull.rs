//! `edulake pull`: a folder source polled for extracts, each file ingested once it is whole,
//! and only once, whoever pulls.

use std::time::{Duration, SystemTime};

use edulake_ingest::Upload;

use crate::common::*;

const SCHOOLS: &str = "school_code,school_name,district,school_type\nS1,一小,D1,小学\n";

/// A lake whose registry has the school S1.
async fn registry() -> Fixture {
    let f = Fixture::new();
    let p = f.write("schools.csv", SCHOOLS);
    f.ingest("schools", Upload::default(), &[p]).await;
    f
}

/// `edulake` on a fixture's lake, saying what it does in English.
fn edulake(f: &Fixture) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_edulake"));
    c.current_dir(f.dir.path())
        .env_remove("EDULAKE_KEY")
        .env("EDULAKE_LAKE", f.lake_path())
        .env("EDULAKE_STATE", f.dir.path().join("lake.state"))
        .env("LC_ALL", "en_US.UTF-8");
    c
}

fn day_file(day: &str, students: &[&str]) -> String {
    let mut out = String::from("日期,班级,学籍号,考勤状态\n");
    for s in students {
        out.push_str(&format!("{day},1-1,{s},出勤\n"));
    }
    out
}

/// Writes a file into the drop folder, as written a minute ago (or now, `fresh`).
fn drop_file(folder: &std::path::Path, name: &str, text: &str, fresh: bool) {
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    if !fresh {
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
    }
}

#[tokio::test]
async fn a_folder_source_is_pulled_once_per_whole_file() {
    let f = registry().await;
    let drop = f.dir.path().join("drop");
    std::fs::create_dir(&drop).unwrap();
    let sources = f.write(
        "sources.toml",
        format!(
            "[[source]]\nname = \"一小考勤\"\ndataset = \"attendance\"\nschool = \"S1\"\n\
             folder = \"{}\"\nfiles = [\"*.csv\"]\nsettle = \"5s\"\n",
            drop.display()
        ),
    );
    let pull = || f.cli(&["pull", "--sources", sources.to_str().unwrap(), "--once"]);
    let rows = || async { f.query("SELECT count(*) FROM attendance").await[0][0].clone() };

    drop_file(
        &drop,
        "2026-09-01.csv",
        &day_file("2026-09-01", &["A", "B"]),
        false,
    );
    drop_file(&drop, "说明.txt", "not an extract", false);
    let o = pull();
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        said.contains("一小考勤: 1 new file(s): 1 stored (2 rows"),
        "{said}"
    );
    assert_eq!(rows().await, "2");

    // Nothing new: nothing taken.
    let said = String::from_utf8_lossy(&pull().stdout).to_string();
    assert!(said.contains("一小考勤: no new file"), "{said}");

    // A file still being written (changed within the settle time) waits; whole, it is taken.
    drop_file(
        &drop,
        "2026-09-02.csv",
        &day_file("2026-09-02", &["A"]),
        true,
    );
    let said = String::from_utf8_lossy(&pull().stdout).to_string();
    assert!(said.contains("no new file"), "{said}");
    drop_file(
        &drop,
        "2026-09-02.csv",
        &day_file("2026-09-02", &["A", "B", "C"]),
        false,
    );
    let said = String::from_utf8_lossy(&pull().stdout).to_string();
    assert!(said.contains("1 new file(s): 1 stored (3 rows"), "{said}");
    assert_eq!(rows().await, "5");
    assert_eq!(
        f.query("SELECT count(*) FROM batches WHERE dataset = 'attendance'")
            .await[0][0],
        "2"
    );

    // Two pulls at once of new files: each file is ingested by one of them, once.
    for d in ["03", "04", "07", "08"] {
        drop_file(
            &drop,
            &format!("2026-09-{d}.csv"),
            &day_file(&format!("2026-09-{d}"), &["A", "B"]),
            false,
        );
    }
    let spawn = || {
        edulake(&f)
            .args(["pull", "--sources", sources.to_str().unwrap(), "--once"])
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    assert_eq!(
        f.query("SELECT count(*) FROM batches WHERE dataset = 'attendance'")
            .await[0][0],
        "6"
    );
    assert_eq!(rows().await, "13");

    // Every pull is in the audit log, and the files it took.
    let accounts =
        edulake_transform::accounts::Accounts::open(&f.dir.path().join("lake.state")).unwrap();
    let log = accounts.audit_log(&Default::default()).unwrap();
    let pulls = log
        .iter()
        .filter(|e| e.action == "pull" && e.target == "一小考勤")
        .count();
    assert!(pulls >= 5, "{pulls} pulls in {log:?}");
    assert!(
        log.iter()
            .any(|e| e.action == "pull_files" && e.target == "一小考勤: 1 file(s)"),
        "{log:?}"
    );
    // The cockpit shows how the source is doing to the bureau, and says when it goes quiet.
    let profiles = edulake_ingest::profile::Profiles::built_in();
    let list = edulake_ingest::pull::parse(&std::fs::read_to_string(&sources).unwrap(), &profiles)
        .unwrap();
    let state = cockpit(&f).await;
    state.set_sources(list.clone());
    let (status, data) = cockpit_get(&state, "/data").await;
    let data = String::from_utf8(data).unwrap();
    assert_eq!(status, axum::http::StatusCode::OK);
    let shown = data
        .split("自动读取的数据源")
        .nth(1)
        .unwrap_or_else(|| panic!("{data}"));
    assert!(
        shown.contains("一小考勤") && shown.contains("<td>6</td>"),
        "{shown}"
    );
    let (_, overview) = cockpit_get(&state, "/").await;
    assert!(!String::from_utf8(overview)
        .unwrap()
        .contains("数据源已沉寂"));
    // Three days without a new file, for a source expected daily.
    let cursor = f
        .dir
        .path()
        .join("lake.state")
        .join(edulake_schemas::pull::cursor_path("一小考勤"));
    let mut c: edulake_schemas::pull::Cursor =
        serde_json::from_slice(&std::fs::read(&cursor).unwrap()).unwrap();
    assert_eq!(c.running_since, None, "no pull runs");
    c.last_file = Some((chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339());
    // A pull running is seen on the Data page.
    c.running_since = Some(chrono::Utc::now().to_rfc3339());
    std::fs::write(&cursor, serde_json::to_vec(&c).unwrap()).unwrap();
    let (_, data) = cockpit_get(&state, "/data").await;
    assert!(String::from_utf8(data).unwrap().contains("读取中（自"));
    let (_, overview) = cockpit_get(&state, "/").await;
    let overview = String::from_utf8(overview).unwrap();
    let quiet = overview
        .split("数据源已沉寂")
        .nth(1)
        .unwrap_or_else(|| panic!("{overview}"));
    assert!(
        quiet.contains("一小考勤") && quiet.contains("1 天"),
        "{quiet}"
    );
}

#[tokio::test]
async fn a_sources_file_with_a_mistake_is_refused_saying_where() {
    let f = registry().await;
    let drop = f.dir.path().join("drop");
    std::fs::create_dir(&drop).unwrap();
    let source = |extra: &str| {
        format!(
            "[[source]]\nname = \"一小\"\ndataset = \"attendance\"\nfolder = \"{}\"\n{extra}",
            drop.display()
        )
    };
    for (extra, said) in [
        (
            "school = \"S9\"\n",
            "source 1 (一小): the school registry has no school S9",
        ),
        ("token = \"secret\"\n", "unknown field `token`"),
        (
            "profile = \"no-such\"\n",
            "source 1 (一小): no profile 'no-such'",
        ),
        ("every = \"often\"\n", "every = 'often' is not a duration"),
    ] {
        let file = f.write("sources.toml", source(extra));
        let o = f.cli(&["pull", "--sources", file.to_str().unwrap(), "--once"]);
        assert_eq!(o.status.code(), Some(1), "{extra}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(said), "{said}: {err}");
    }
    // In Chinese by default.
    let file = f.write("sources.toml", source("school = \"S9\"\n"));
    let o = f.cli(&[
        "--lang",
        "zh",
        "pull",
        "--sources",
        file.to_str().unwrap(),
        "--once",
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("第 1 个数据源（一小）：学校名录中没有学校 S9"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A pull killed (SIGKILL) at any point of its cycle, twenty times over, loses no file and
/// stores none twice: the lake ends with every row of every file the folder got, once.
#[tokio::test]
async fn pulls_killed_at_random_points_lose_and_double_nothing() {
    let f = registry().await;
    let drop = f.dir.path().join("drop");
    std::fs::create_dir(&drop).unwrap();
    let sources = f.write(
        "sources.toml",
        format!(
            "[[source]]\nname = \"一小\"\ndataset = \"attendance\"\nschool = \"S1\"\n\
             folder = \"{}\"\nsettle = \"1s\"\n",
            drop.display()
        ),
    );
    let spawn = || {
        edulake(&f)
            .args([
                "--quiet",
                "pull",
                "--sources",
                sources.to_str().unwrap(),
                "--once",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // A file a round, each a school day of its own with three pupils; killed after a delay
    // that walks over the whole cycle (start, listing, reading, committing, the cursor).
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut day = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let mut expected = 0;
    for round in 0..20 {
        while chrono::Datelike::weekday(&day).number_from_monday() > 5 {
            day = day.succ_opt().unwrap();
        }
        let name = format!("{day}.csv");
        let pupils = [
            format!("R{round}A"),
            format!("R{round}B"),
            format!("R{round}C"),
        ];
        let refs: Vec<&str> = pupils.iter().map(String::as_str).collect();
        drop_file(&drop, &name, &day_file(&day.to_string(), &refs), false);
        expected += 3;
        day = day.succ_opt().unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait = Duration::from_millis(seed % 900);
        let mut child = spawn();
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
    }
    // Then a pull left to finish takes whatever the killed ones did not.
    let o = f.cli(&["pull", "--sources", sources.to_str().unwrap(), "--once"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let raw = f.query("SELECT count(*) FROM raw_attendance").await;
    let distinct = f
        .query("SELECT count(*) FROM (SELECT DISTINCT date, student_id FROM raw_attendance)")
        .await;
    assert_eq!(
        raw[0][0],
        expected.to_string(),
        "no row stored twice, none lost"
    );
    assert_eq!(distinct[0][0], expected.to_string());
    let batches = f
        .query("SELECT count(*) FROM batches WHERE dataset = 'attendance'")
        .await;
    assert_eq!(batches[0][0], "20", "a batch a file");
}

/// An S3 prefix a vendor writes into, on a real S3-compatible server (moto on 127.0.0.1): each
/// object taken once, a new one on the next pull.
#[tokio::test]
async fn an_s3_prefix_is_pulled_once_per_object() {
    let moto = crate::s3::start_moto();
    let f = registry().await;
    let put = |key: &str, body: &str| {
        let said = crate::s3::http(
            moto.port,
            &format!(
                "PUT /edulake/{key} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                moto.port,
                body.len()
            ),
        );
        assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    };
    let sources = f.write(
        "sources.toml",
        "[[source]]\nname = \"厂商\"\ndataset = \"attendance\"\nschool = \"S1\"\n\
         s3 = \"s3://edulake/vendor/\"\nsettle = \"1s\"\n",
    );
    let pull = || {
        moto.env(&mut edulake(&f))
            .args(["pull", "--sources", sources.to_str().unwrap(), "--once"])
            .output()
            .unwrap()
    };
    put(
        "vendor/2026-09-01.csv",
        &day_file("2026-09-01", &["A", "B"]),
    );
    put("other/2026-09-01.csv", &day_file("2026-09-01", &["X"]));
    std::thread::sleep(Duration::from_millis(1100));
    let o = pull();
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        said.contains("厂商: 1 new file(s): 1 stored (2 rows"),
        "{said}"
    );
    let said = String::from_utf8_lossy(&pull().stdout).to_string();
    assert!(said.contains("厂商: no new file"), "{said}");
    put(
        "vendor/2026-09-02.csv",
        &day_file("2026-09-02", &["A", "B", "C"]),
    );
    std::thread::sleep(Duration::from_millis(1100));
    let said = String::from_utf8_lossy(&pull().stdout).to_string();
    assert!(said.contains("1 new file(s): 1 stored (3 rows"), "{said}");
    assert_eq!(f.query("SELECT count(*) FROM attendance").await[0][0], "5");
    // The objects were fetched into the state directory only for their ingest.
    let left: Vec<_> = crate::lake::walk(&f.dir.path().join("lake.state/pull"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A vendor's endpoint on 127.0.0.1: the requests it got, and what it answers each path.
struct Vendor {
    port: u16,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Answers: `/export` (a first page linking to a second, when the token is right; 401 else),
/// `/broken` (500), `/slow` (a body that takes longer than the source waits).
fn vendor() -> Vendor {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("authorization:") {
                    auth = line[14..].trim().to_string();
                }
            }
            let target = first.split_whitespace().nth(1).unwrap_or("/").to_string();
            log.lock().unwrap().push(target.clone());
            let mut conn = conn;
            let reply = |conn: &mut std::net::TcpStream, status: &str, extra: &str, body: &str| {
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
                    body.len()
                );
            };
            let path = target.split('?').next().unwrap_or("");
            match path {
                "/export" if auth != "Bearer s3cret" => {
                    reply(&mut conn, "401 Unauthorized", "", "")
                }
                "/export" if target.contains("page=2") => reply(
                    &mut conn,
                    "200 OK",
                    "",
                    &day_file("2026-09-02", &["A", "B", "C"]),
                ),
                "/export" if target.contains("since=") => reply(&mut conn, "200 OK", "", ""),
                "/export" => reply(
                    &mut conn,
                    "200 OK",
                    "Link: </export?page=2>; rel=\"next\"\r\n",
                    &day_file("2026-09-01", &["A", "B"]),
                ),
                "/paged" if auth != "Bearer s3cret" => reply(&mut conn, "401 Unauthorized", "", ""),
                "/paged" if target.contains("page=1") => {
                    reply(&mut conn, "200 OK", "", &day_file("2026-09-03", &["A"]))
                }
                "/paged" if target.contains("page=2") => reply(
                    &mut conn,
                    "200 OK",
                    "",
                    &day_file("2026-09-04", &["A", "B"]),
                ),
                "/paged" => reply(&mut conn, "200 OK", "", ""),
                "/json" if auth != "Bearer s3cret" => reply(&mut conn, "401 Unauthorized", "", ""),
                "/json" if target.contains("after=c2") => {
                    reply(&mut conn, "200 OK", "", r#"{"data":[],"next_cursor":""}"#)
                }
                "/json" => reply(
                    &mut conn,
                    "200 OK",
                    "",
                    r#"{"data":[{"日期":"2026-09-07","班级":"1-1","学籍号":"J1","考勤状态":"出勤"}],"next_cursor":"c2"}"#,
                ),
                "/broken" => reply(&mut conn, "500 Internal Server Error", "", "oops"),
                "/slow" => {
                    let _ = write!(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n日期");
                    std::thread::sleep(Duration::from_secs(4));
                }
                _ => reply(&mut conn, "404 Not Found", "", ""),
            }
        }
    });
    Vendor { port, asked }
}

#[tokio::test]
async fn an_http_source_follows_its_pages_and_its_cursor_and_says_what_fails() {
    let f = registry().await;
    let v = vendor();
    let source = |name: &str, path: &str| {
        format!(
            "[[source]]\nname = \"{name}\"\ndataset = \"attendance\"\nschool = \"S1\"\n\
             http = \"http://127.0.0.1:{}{path}\"\nheaders = {{ Authorization = \"Bearer ${{VENDOR_TOKEN}}\" }}\n\
             since = \"since\"\nnext = \"link\"\nfile = \"考勤.csv\"\ntimeout = \"2s\"\n",
            v.port
        )
    };
    let sources = f.write(
        "sources.toml",
        format!(
            "{}{}{}",
            source("平台", "/export"),
            source("坏的", "/broken"),
            source("慢的", "/slow")
        ),
    );
    let pull = |token: &str| {
        edulake(&f)
            .env("VENDOR_TOKEN", token)
            .args(["pull", "--sources", sources.to_str().unwrap(), "--once"])
            .output()
            .unwrap()
    };
    // A wrong token: refused, said so; the other sources fail alone, each with why.
    let o = pull("wrong");
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("平台: the pull failed") && err.contains("(HTTP 401): check the token"),
        "{err}"
    );
    assert!(
        err.contains("坏的: the pull failed") && err.contains("HTTP 500"),
        "{err}"
    );
    assert!(err.contains("慢的: the pull failed"), "{err}");
    // The right token: both pages, five rows.
    let o = pull("s3cret");
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        said.contains("平台: 2 new file(s): 2 stored (5 rows"),
        "{said}"
    );
    assert_eq!(f.query("SELECT count(*) FROM attendance").await[0][0], "5");
    // The next pull asks for what came since the last one began: nothing.
    let o = pull("s3cret");
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(said.contains("平台: no new file"), "{said}");
    let asked = v.asked.lock().unwrap().clone();
    assert!(
        asked.iter().any(|a| a.starts_with("/export?since=2026-")),
        "{asked:?}"
    );
    assert_eq!(f.query("SELECT count(*) FROM attendance").await[0][0], "5");
    // Page numbers, until a page comes back empty.
    let paged = f.write(
        "paged.toml",
        source("分页", "/paged").replace("next = \"link\"", "next = \"page:page\""),
    );
    let o = edulake(&f)
        .env("VENDOR_TOKEN", "s3cret")
        .args(["pull", "--sources", paged.to_str().unwrap(), "--once"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        said.contains("分页: 2 new file(s): 2 stored (3 rows"),
        "{said}"
    );
    assert_eq!(f.query("SELECT count(*) FROM attendance").await[0][0], "8");
    // A JSON answer's records, the next page asked for by the cursor its body gives.
    let json = f.write(
        "json.toml",
        source("接口", "/json")
            .replace(
                "next = \"link\"",
                "next = \"cursor:next_cursor:after\"\nrecords = \"data\"",
            )
            .replace("file = \"考勤.csv\"\n", ""),
    );
    let o = edulake(&f)
        .env("VENDOR_TOKEN", "s3cret")
        .args(["pull", "--sources", json.to_str().unwrap(), "--once"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        said.contains("接口: 1 new file(s): 1 stored (1 rows"),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        v.asked
            .lock()
            .unwrap()
            .iter()
            .any(|a| a.contains("/json?") && a.contains("after=c2")),
        "the cursor asked for the next page"
    );
    assert_eq!(f.query("SELECT count(*) FROM attendance").await[0][0], "9");
    // A secret written in the sources file is refused before anything is asked.
    let inline = f.write(
        "inline.toml",
        source("平台", "/export").replace("Bearer ${VENDOR_TOKEN}", "Bearer s3cret"),
    );
    let o = f.cli(&["pull", "--sources", inline.to_str().unwrap(), "--once"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("the header Authorization is written in the sources file"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
