//! Nothing a visitor sends can take the cockpit down: `edulake serve` runs under an
//! address-space limit while it is sent the queries, ranges, hosts and forms of the issue, and
//! must answer each with a clear refusal and go on serving.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::hostile::limited_command;

/// Stops the server when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 exchange on a new connection: the status and the body as text.
fn http(addr: &str, request: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    // A server that answers before it has read a body (a refusal) may close while it is sent.
    let _ = s
        .write_all(request.as_bytes())
        .and_then(|_| s.write_all(body));
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn get(addr: &str, path: &str) -> (u16, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        b"",
    )
}

/// The form token of the cockpit's upload page.
fn csrf_of(addr: &str) -> String {
    let (status, page) = get(addr, "/upload");
    assert_eq!(status, 200, "{page}");
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the upload form's token")
        .to_string()
}

/// `q` for a URL.
fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn hostile_queries_ranges_hosts_and_forms_are_refused_and_the_cockpit_stays_up() {
    let f = Fixture::new();
    let mut rows = String::from("日期,学校代码,班级,学籍号,考勤状态\n");
    for day in 1..=5 {
        for s in 0..60 {
            rows.push_str(&format!("2026-09-0{day},S001,10{},G{s:03},出勤\n", s % 3));
        }
    }
    let file = f.write("考勤.csv", rows);
    let schools = f.write(
        "学校.csv",
        "学校代码,学校名称,区县,学段\nS001,第一小学,长安区,小学\n",
    );
    for (d, p) in [("attendance", &file), ("schools", &schools)] {
        let o = f.cli(&["--quiet", "ingest", "--dataset", d, p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
    let mut child = limited_command(&f, &[("EDULAKE_QUERY_SECONDS", "3")])
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut server = Server(child);
    let mut addr = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(at) = line.find("http://") {
            addr = line[at + 7..].split('/').next().map(str::to_string);
            break;
        }
    }
    let addr = addr.expect("the server printed its address");

    // 1. Five thousand terms: refused before the planner can overflow a stack.
    let terms = vec!["1"; 5_000].join("+");
    let (status, body) = get(
        &addr,
        &format!("/sql?q={}", enc(&format!("SELECT {terms}"))),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nests expressions"), "{body}");
    // 2. A value of 2 GB from a few bytes.
    let (status, body) = get(
        &addr,
        &format!("/sql?q={}", enc("SELECT repeat('ab', 1000000000)")),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("repeat would make a value over 16 MiB"),
        "{body}"
    );
    // 3. A cross join whose result would not fit in memory: streamed as it comes, never
    // collected, and cut at the time limit (the response ends unfinished: no chunked
    // terminator), the server's memory untouched.
    let started = Instant::now();
    let (status, body) = get(
        &addr,
        &format!(
            "/sql?q={}",
            enc("SELECT a.*, b.*, c.* FROM attendance a, attendance b, attendance c")
        ),
    );
    assert_eq!(status, 200, "{}", &body[..body.len().min(500)]);
    assert!(
        !body.ends_with("\r\n0\r\n\r\n"),
        "the response was cut, not finished"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // 4. A query that would run for hours: stopped after its time.
    let (status, body) = get(
        &addr,
        &format!(
            "/sql?q={}",
            enc(
                "SELECT sum(length(a.student_id || b.class_code || c.status || d.student_id)) \
                 FROM attendance a, attendance b, attendance c, attendance d"
            )
        ),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("ran longer than 3 s"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // 4b. What the helper found on the way: plans as deep as their unions or joins are many,
    // values made big by other functions or by `||` in nested subqueries, a comparison that
    // would run for minutes while the query is planned. Each is refused or stopped, and the
    // cockpit goes on.
    let unions = vec!["SELECT 1"; 3_000].join(" UNION ");
    let joins: String = (1..1_000)
        .map(|i| format!(" JOIN attendance a{i} ON true"))
        .collect();
    let doubled = (1..=8)
        .map(|i| format!("t{i} AS (SELECT s || s AS s FROM t{})", i - 1))
        .collect::<Vec<_>>()
        .join(", ");
    for (q, said) in [
        (unions, "at most 64 are accepted"),
        (format!("SELECT 1 FROM attendance a0{joins}"), "reads 1000 tables"),
        (
            "SELECT length(replace(replace(repeat('a', 16000000), 'a', 'aaaaaaaaaaaaaaaa'), 'a', 'aaaaaaa'))".into(),
            "replace could make a value over 16 MiB",
        ),
        (
            "SELECT length(array_repeat(repeat('a', 16000000), 100))".into(),
            "array_repeat would make a value over 16 MiB",
        ),
        (
            "SELECT levenshtein(repeat('a', 200000), repeat('b', 200000))".into(),
            "levenshtein",
        ),
        (
            format!("WITH t0 AS (SELECT repeat('x', 16000000) AS s), {doubled} SELECT length(s) FROM t8"),
            "more memory than a query may use|ran longer than 3 s",
        ),
    ] {
        let started = Instant::now();
        let (status, body) = get(&addr, &format!("/sql?q={}", enc(&q)));
        assert_eq!(status, 400, "{}: {body}", &q[..q.len().min(80)]);
        assert!(
            said.split('|').any(|s| body.contains(s)),
            "{}: {body}",
            &q[..q.len().min(80)]
        );
        assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    }
    // Two clients that ask and never read hold no place past the time limit: the queries'
    // processes end themselves, and the next query runs.
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            let q = enc("SELECT a.*, b.* FROM attendance a, attendance b");
            s.write_all(
                format!("GET /sql?q={q} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_secs(5));
    let (status, body) = get(&addr, &format!("/sql?q={}", enc("SELECT 42 AS n")));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\nn\n42\n"), "{body}");
    drop(idle);
    // A CSV's header names and dictionary text are cells too.
    let (status, body) = get(
        &addr,
        &format!(
            "/sql?q={}",
            enc("SELECT arrow_cast('=1+2', 'Dictionary(Int32, Utf8)') AS \"@SUM(A1)\"")
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\r\n'@SUM(A1)\n'=1+2\n"), "{body}");
    // 5. Ranges from year 1 to 9999: clamped to the data.
    for path in [
        "/?from=0001-01-01&to=9999-12-31",
        "/school/S001?from=0001-01-01&to=9999-12-31&lang=en",
        "/download?indicator=attendance_rate&level=school&grain=day&from=0001-01-01&to=9999-12-31",
        "/download?table=alerts&from=0001-01-01&to=9999-12-31",
        "/download?indicator=enrolled&level=class&grain=day&to=2052-01-01&by=gender",
        "/download?indicator=attendance_rate&level=class&grain=day&from=0001-01-01",
    ] {
        let (status, body) = get(&addr, path);
        assert_eq!(status, 200, "{path}: {body}");
    }
    // A district no school is in is not a page.
    let (status, _) = get(&addr, "/district/%E6%B2%A1%E6%9C%89%E8%BF%99%E4%B8%AA");
    assert_eq!(status, 404);
    // 6. Another site's name for this address (DNS rebinding): refused; so is a name that is
    // not text.
    let (status, body) = http(
        &addr,
        "GET / HTTP/1.1\r\nHost: evil\u{e9}.example\r\nConnection: close\r\n\r\n",
        b"",
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = http(
        &addr,
        "GET /sql?q=SELECT%201 HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n",
        b"",
    );
    assert_eq!(status, 403, "{body}");
    // 7. A form posted from another site: refused, nothing stored. (The form carries the
    // token of the cockpit's own upload page, as a browser's would.)
    let token = csrf_of(&addr);
    let form = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
                --XyZ\r\nContent-Disposition: form-data; name=\"dataset\"\r\n\r\nattendance\r\n\
                --XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"x.csv\"\r\n\
                Content-Type: text/csv\r\n\r\ndate,school_code,class_code,student_id,status\n\
                2026-09-07,S001,101,G900,present\n\r\n--XyZ--\r\n"
    );
    let (status, body) = http(
        &addr,
        &format!(
            "POST /upload HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://attacker.example\r\n\
             Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            form.len()
        ),
        form.as_bytes(),
    );
    assert_eq!(status, 403, "{body}");
    // The same form from the cockpit's own page is taken.
    let (status, body) = http(
        &addr,
        &format!(
            "POST /upload HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
             Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            form.len()
        ),
        form.as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("已入库"), "{body}");
    // The cockpit shows it once it has refreshed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, batches) = get(
            &addr,
            &format!(
                "/sql?q={}",
                enc("SELECT count(*) AS n FROM batches WHERE source_file LIKE '%x.csv'")
            ),
        );
        if batches.contains("\nn\n1\n") {
            break;
        }
        assert!(Instant::now() < deadline, "one upload stored: {batches}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The uploaded file itself is gone from the state directory.
    let uploads = f.dir.path().join("lake.state/uploads");
    let left: Vec<_> = std::fs::read_dir(&uploads)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");

    // Eight uploads of 16 MB at once: received to disk, a few at a time, the others told to
    // try again; the server's memory stays what it was.
    let zeros = vec![b'0'; 16 << 20];
    let uploads: Vec<_> = (0..8)
        .map(|i| {
            let addr = addr.clone();
            let zeros = zeros.clone();
            let token = token.clone();
            std::thread::spawn(move || {
                let mut form = format!(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n\
                     --XyZ\r\nContent-Disposition: form-data; name=\"dataset\"\r\n\r\nattendance\r\n\
                     --XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"z{i}.csv\"\r\n\
                     Content-Type: text/csv\r\n\r\n"
                )
                .into_bytes();
                form.extend_from_slice(&zeros);
                form.extend_from_slice(b"\r\n--XyZ--\r\n");
                http(
                    &addr,
                    &format!(
                        "POST /upload HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
                         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n",
                        form.len()
                    ),
                    &form,
                )
                .0
            })
        })
        .collect();
    for u in uploads {
        let status = u.join().unwrap();
        assert!(status == 200 || status == 400, "{status}");
    }
    let rss = std::fs::read_to_string(format!("/proc/{}/status", server.0.id()))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(rss < 1_000_000, "the server's peak memory: {rss} kB");

    // Still serving.
    let (status, _) = get(&addr, "/");
    assert_eq!(status, 200);
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "the server is still running"
    );
}
