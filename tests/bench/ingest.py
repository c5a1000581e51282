#!/usr/bin/env python3
"""Ingest benchmark: edulake against DuckDB and Polars on the same attendance extracts.

Generates per-school attendance CSVs (default 2,000 schools x 500 students x 20 days = 20M
rows) with `edulake generate`, then in one run:
  - edulake ingest (read, validate, pseudonymise, commit to a Delta lake),
  - DuckDB  COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet),
  - Polars  scan_csv(...).sink_parquet(...),
each as its own process with the same thread count, and prints rows/s, MB/s, peak memory and
the ratios. A ratio above 1.0 means edulake is faster.

  python3 tests/bench/ingest.py [--schools N] [--students N] [--days N] [--threads N]
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(cmd, env=None, stdout=subprocess.DEVNULL):
    """Runs a command, returns (seconds, peak RSS in MiB)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{err}")
    return secs, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=2000)
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--work", default="/tmp/edulake-bench")
    ap.add_argument("--keep", action="store_true", help="reuse generated extracts if present")
    args = ap.parse_args()

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--bin", "edulake"], cwd=ROOT, check=True)
    edulake = target / "release" / "edulake"

    work = Path(args.work)
    extracts = work / f"extracts-{args.schools}-{args.students}-{args.days}"
    if not (args.keep and extracts.exists()):
        shutil.rmtree(extracts, ignore_errors=True)
        subprocess.run([edulake, "generate", "--out", extracts, "--schools", str(args.schools),
                        "--students", str(args.students), "--days", str(args.days),
                        "--datasets", "attendance", "--end", "2026-10-30"], check=True)
    files = sorted((extracts / "attendance").glob("*.csv"))
    nbytes = sum(f.stat().st_size for f in files)
    rows = sum(1 for f in files for _ in open(f, "rb")) - len(files)
    print(f"input: {len(files)} files, {rows:,} rows, {nbytes / 1e6:.0f} MB of CSV, {args.threads} threads")

    results = {}
    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(work / "lake.state", ignore_errors=True)
    env = dict(os.environ, EDULAKE_KEY="0" * 64)
    with open(work / "ingest.out", "w") as out:
        results["edulake ingest"] = run([edulake, "--quiet", "--lake", lake, "--state", work / "lake.state",
                                         "ingest", "--dataset", "attendance", extracts / "attendance"], env, out)
    # The work must really be done: every row stored and visible in the lake.
    counted = subprocess.run([edulake, "--quiet", "--lake", lake, "--state", work / "lake.state", "sql", "--format", "csv",
                              "SELECT count(*) AS n FROM raw_attendance"], env=env, capture_output=True, text=True, check=True)
    stored = int(counted.stdout.split()[-1])
    assert stored == rows, f"edulake stored {stored} rows of {rows}"

    out = work / "duckdb.parquet"
    duck = (f"import duckdb; c = duckdb.connect(); c.execute('SET threads={args.threads}'); "
            f"c.execute(\"COPY (SELECT * FROM read_csv('{extracts}/attendance/*.csv')) TO '{out}' (FORMAT parquet)\")")
    results["DuckDB COPY to parquet"] = run([sys.executable, "-c", duck])

    out = work / "polars.parquet"
    pol = (f"import os; os.environ['POLARS_MAX_THREADS']='{args.threads}'; import polars as pl; "
           f"pl.scan_csv('{extracts}/attendance/*.csv').sink_parquet('{out}')")
    results["Polars CSV to parquet"] = run([sys.executable, "-c", pol])

    print(f"{'':28}{'seconds':>9}{'M rows/s':>10}{'MB/s':>8}{'peak MiB':>10}")
    for name, (secs, rss) in results.items():
        print(f"{name:28}{secs:9.2f}{rows / secs / 1e6:10.2f}{nbytes / secs / 1e6:8.1f}{rss:10.0f}")
    e = results["edulake ingest"][0]
    print(f"ratio vs DuckDB: {results['DuckDB COPY to parquet'][0] / e:.2f}x  "
          f"ratio vs Polars: {results['Polars CSV to parquet'][0] / e:.2f}x  (above 1.0: edulake faster)")


if __name__ == "__main__":
    main()
