"""The cockpit under load, on a lake already built (by default the city-scale lake that
tests/bench/build.py leaves with --keep; `python3 tests/bench/build.py --work /tmp/bb-city
--keep --lake-only` makes just that lake).

    python3 tests/bench/cockpit.py [--lake DIR] [--seconds 20] [--connections 32]

1. `edulake serve` (release) on 127.0.0.1; the overview, a district page and a school page
   rendered once (cold: server time of the first request).
2. warm: wrk against each page already rendered: requests per second and the latency
   percentiles (p50, p95, p99) as wrk measures them from a second process on the same
   machine, so they include the client's share of the 2 cores.
3. the same query the overview's attendance tiles need, run by DuckDB over the same lake's
   mart files, for a ratio against the cold render.
4. freshness: one school-day uploaded through the upload page (a correction of the school's
   latest day, every student absent, so that the lake's shape is unchanged), then the time
   until that school's page shows it.
"""

import argparse
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = "bench-key-0123456789abcdef0123456789abcdef"


def get(url):
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read().decode("utf-8")
    return time.perf_counter() - t, body


def wrk(url, seconds, connections, gzip):
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write(
        "done = function(summary, latency, requests)\n"
        "  io.write(string.format('RESULT %d %d %d %d %d %d\\n', summary.requests, summary.duration,"
        " latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.errors.status))\n"
        "end\n"
    )
    lua.close()
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", lua.name]
        + (["-H", "Accept-Encoding: gzip"] if gzip else []) + [url],
        capture_output=True, text=True, check=True,
    ).stdout
    m = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    requests, micros, p50, p95, p99, errors = map(int, m.groups())
    return {"rps": requests / (micros / 1e6), "p50_ms": p50 / 1000, "p95_ms": p95 / 1000,
            "p99_ms": p99 / 1000, "non_2xx": errors}


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for k, v in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for name, data in files:
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                   f"Content-Type: text/csv\r\n\r\n".encode())
        body.write(data)
        body.write(b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", body.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", default="/tmp/bb-city/lake-2000-1000000-190-60")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--port", type=int, default=18080)
    args = ap.parse_args()
    lake = Path(args.lake)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--bin", "edulake"], cwd=ROOT, check=True)
    edulake = target / "release" / "edulake"
    state = Path(tempfile.mkdtemp(prefix="cockpit-bench-state-"))
    env = dict(os.environ, EDULAKE_KEY=KEY)
    base = [str(edulake), "--quiet", "--lake", str(lake), "--state", str(state)]

    def sql(q):
        out = subprocess.run(base + ["sql", "--format", "csv", q], env=env, capture_output=True,
                             text=True, check=True).stdout
        return list(csv.reader(io.StringIO(out)))[1:]

    # A school that sends per-student rows (most send class reports): the freshness step
    # uploads a correction of its rows.
    district, school = sql("SELECT district, school_code FROM schools WHERE school_code IN "
                           "(SELECT school_code FROM mart_attendance_rate) AND school_code IN "
                           "(SELECT school_code FROM attendance WHERE date = (SELECT max(date) FROM attendance)) "
                           "ORDER BY school_code LIMIT 1")[0]
    url = f"http://127.0.0.1:{args.port}"
    t0 = time.perf_counter()
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    server = subprocess.Popen(base + ["serve", "--addr", f"127.0.0.1:{args.port}"],
                              env=dict(env, EDULAKE_LOG="warn,edulake_serve=debug,edulake_transform=debug"),
                              stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = server.stdout.readline()
        assert "http://" in line, line
        print(f"serve: ready in {time.perf_counter() - t0:.1f} s")
        results = {}
        pages = {"overview": "/", "district": f"/district/{urllib.request.quote(district)}",
                 "school": f"/school/{school}"}
        # The overview in Chinese was rendered at start; English is rendered on request.
        cold, _ = get(url + "/?lang=en")
        results["overview_en_cold_s"] = cold
        print(f"overview  cold (English, not prerendered) {cold:6.2f} s")
        for name, path in pages.items():
            cold, _ = get(url + path)
            warm, _ = get(url + path)
            results[name] = {"cold_s": cold, "warm_single_ms": warm * 1000}
            print(f"{name:<9} cold {cold:6.2f} s, warm {warm * 1000:6.2f} ms")
        for name, path in pages.items():
            for gzip in (False, True):
                r = wrk(url + path, args.seconds, args.connections, gzip)
                results[name]["gzip" if gzip else "plain"] = r
                print(f"{name:<9} {'gzip ' if gzip else 'plain'} wrk -c{args.connections}: {r['rps']:8.0f} req/s, "
                      f"p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                      f"non-2xx {r['non_2xx']}")

        # DuckDB over the same mart: the tiles' attendance numbers for the latest day and the
        # week before, as the overview's first query does.
        import duckdb
        t = time.perf_counter()
        con = duckdb.connect()
        glob = str(lake / "marts" / "attendance_rate" / "**" / "*.parquet")
        con.sql(f"SELECT date, sum(numerator) / sum(denominator) FROM read_parquet('{glob}', hive_partitioning=true) "
                f"WHERE date >= (SELECT max(date) FROM read_parquet('{glob}', hive_partitioning=true)) - 7 "
                "GROUP BY date ORDER BY date").fetchall()
        duck = time.perf_counter() - t
        results["duckdb_tile_query_s"] = duck
        print(f"duckdb: the attendance tiles' query over the mart in {duck:.2f} s "
              f"(overview cold {results['overview']['cold_s']:.2f} s renders ~30 such queries)")

        # Freshness: a correction of one school's latest day, every student absent.
        day = sql(f"SELECT CAST(max(date) AS VARCHAR) FROM attendance WHERE school_code = '{school}'")[0][0]
        # The school's rows of that day, from the extracts beside the lake (the day's own
        # extract, or the whole term's file).
        rows = []
        for p in sorted(Path(lake).parent.glob(f"*/attendance/{school}.csv")):
            found = list(csv.reader(open(p, encoding="utf-8")))
            day_rows = [r for r in found[1:] if r and r[0] == day]
            if day_rows:
                rows = [found[0]] + day_rows
                break
        if not rows:
            print(f"freshness: no extract of {school} on {day} beside the lake; skipped")
        else:
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(rows[0])
            status = rows[0].index("status")
            # Every student absent, for one reason or another: a file that differs from any
            # uploaded before (the same bytes twice would be "already ingested").
            import random
            for r in rows[1:]:
                r[status] = random.choice(["absent", "sick_leave", "personal_leave"])
                w.writerow(r)
            data = out.getvalue().encode()
            # The upload form's token (the cockpit's own user: a lake without accounts), first.
            form = get(url + "/upload")[1]
            token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
            ctype, body = multipart({"csrf": token, "dataset": "attendance"}, [(f"{school}-{day}-bench-{uuid.uuid4().hex[:6]}.csv", data)])
            before = get(url + pages["school"])[1]
            t = time.perf_counter()
            req = urllib.request.Request(url + "/upload", data=body, headers={"Content-Type": ctype})
            with urllib.request.urlopen(req, timeout=600) as r:
                page = r.read().decode()
            stored = time.perf_counter() - t
            assert "已入库" in page, page[:2000]
            shown = None
            while time.perf_counter() - t < 120:
                _, now = get(url + pages["school"])
                if now != before and ">0.0%<" in now:
                    shown = time.perf_counter() - t
                    break
                time.sleep(0.1)
            results["upload_stored_s"] = stored
            results["upload_shown_s"] = shown
            print(f"freshness: one school-day ({len(rows) - 1} rows) stored in {stored:.2f} s, "
                  f"shown on the school page after {shown if shown is None else round(shown, 2)} s")
            # The server's own account of the refresh (its build, then the pages rendered ahead),
            # logged once the overview is rendered too.
            deadline = time.perf_counter() + 120
            while time.perf_counter() < deadline:
                lines = [l for l in open(log.name, encoding="utf-8") if "cockpit refreshed" in l]
                if lines:
                    for line in open(log.name, encoding="utf-8"):
                        if "cockpit refresh: built" in line:
                            print("server:", line.split("cockpit refresh: ", 1)[1].strip())
                    for line in lines:
                        print("server:", line.split("cockpit refreshed", 1)[1].strip(": \n"))
                    break
                time.sleep(0.5)
        print(json.dumps(results, indent=2))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
