//! The same ingest and SQL against a real S3-compatible server (moto, started here on
//! 127.0.0.1), not a mock of our own.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

pub(crate) struct Moto {
    child: Child,
    pub(crate) port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn http(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

impl Moto {
    /// The variables that point a command at this server, as any S3 client's would.
    pub(crate) fn env<'a>(&self, c: &'a mut Command) -> &'a mut Command {
        c.env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", self.port),
        )
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ALLOW_HTTP", "true")
    }
}

pub(crate) fn start_moto() -> Moto {
    let port = free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m moto.server (tests/setup.sh installs moto[server])");
    let moto = Moto { child, port };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let created = http(port, &format!("PUT /edulake HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    moto
}

#[test]
fn ingest_and_sql_on_s3() {
    let moto = start_moto();
    let f = Fixture::new();
    let p = f.write("a.csv", to_csv(&attendance_rows(), b','));
    let fix = f.write(
        "fix.csv",
        "date,school_code,class_code,student_id,status\n2026-09-01,S001,101,G002,present\n",
    );
    let state = f.dir.path().join("s3.state");
    let run = |args: &[&str]| {
        let o = moto
            .env(&mut Command::new(env!("CARGO_BIN_EXE_edulake")))
            .env_remove("EDULAKE_KEY")
            .env("LC_ALL", "en_US.UTF-8")
            .env("AWS_S3_ALLOW_UNSAFE_RENAME", "true")
            .args([
                "--quiet",
                "--lake",
                "s3://edulake/district",
                "--state",
                state.to_str().unwrap(),
            ])
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "{args:?}: {text}");
        text
    };
    let out = run(&["ingest", "--dataset", "attendance", p.to_str().unwrap()]);
    assert!(out.contains("stored 6 of 6 rows"), "{out}");
    let out = run(&["ingest", "--dataset", "attendance", p.to_str().unwrap()]);
    assert!(out.contains("already ingested"), "{out}");
    run(&["ingest", "--dataset", "attendance", fix.to_str().unwrap()]);
    let csv = run(&[
        "sql",
        "--format",
        "csv",
        "SELECT status, count(*) AS n FROM attendance GROUP BY status ORDER BY status",
    ]);
    assert_eq!(csv.trim(), "status,n\nlate,1\npresent,4\nsick_leave,1");
    let batches = run(&["batches", "--format", "csv"]);
    assert_eq!(batches.lines().count(), 3, "{batches}");
    // The objects really are in the bucket.
    let listing = http(moto.port, &format!("GET /edulake?list-type=2&prefix=district/attendance/_delta_log HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", moto.port));
    assert!(listing.contains("00000000000000000001.json"), "{listing}");
}
