#!/usr/bin/env python3
"""What small-cell protection costs a reader outside the bureau (issue "Who may see what").

Each reader's first read of an indicator decides its hidden cells over the whole family (every
level, split and day of the data within its scope, transform/src/indicators/suppress.rs). This
runs the same designed view, in a whole `edulake sql` process (opening the lake), as the bureau
(no suppression), a school clerk, a district officer and a whole-city researcher, and DuckDB
summing the same mart's Parquet for the scope (what the bureau's answer is), and prints each
time and its ratio to the bureau's.

    python3 tests/bench/restricted.py --lake /tmp/mid/lake-300-150000-60-20
"""

import argparse
import csv
import io
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = "bench-key-0123456789abcdef0123456789abcdef"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", required=True)
    ap.add_argument("--views", default="attendance_rate_class,enrolled_class_by_gender")
    args = ap.parse_args()
    lake = Path(args.lake)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--bin", "edulake"], cwd=ROOT, check=True)
    edulake = target / "release" / "edulake"
    env = dict(os.environ, EDULAKE_KEY=os.environ.get("EDULAKE_KEY", KEY))
    base = [str(edulake), "--quiet", "--lake", str(lake)]

    def sql(q, *role):
        t = time.perf_counter()
        out = subprocess.run(base + ["sql", "--format", "csv", *role, q], env=env,
                             capture_output=True, text=True, check=True).stdout
        return time.perf_counter() - t, list(csv.reader(io.StringIO(out)))[1:]

    _, found = sql("SELECT s.district, s.school_code, count(*) AS n FROM schools s "
                   "JOIN mart_attendance_rate m ON m.school_code = s.school_code "
                   "GROUP BY 1, 2 ORDER BY n DESC, 2 LIMIT 1")
    district, school = found[0][0], found[0][1]
    readers = [
        ("bureau_analyst", [], "bureau"),
        ("school_clerk", ["--school", school], school),
        ("district_officer", ["--district", district], district),
        ("researcher", [], "bureau"),
    ]
    import duckdb

    glob = str(lake / "marts" / "attendance_rate" / "**" / "*.parquet")
    for view in args.views.split(","):
        print(f"{view}:")
        bureau = None
        for role, scope, name in readers:
            q = f"SELECT count(*), sum(CASE WHEN suppressed THEN 1 ELSE 0 END) FROM {view}"
            secs, rows = sql(q, "--role", role, *scope)
            bureau = bureau or secs
            n, hidden = rows[0]
            print(f"  {role:<17} {name:<12} {secs:7.2f} s  ×{secs / bureau:5.1f} of the bureau's  "
                  f"{n:>9} rows, {hidden:>8} hidden")
        if view.startswith("attendance_rate"):
            t = time.perf_counter()
            con = duckdb.connect()
            con.sql(f"SELECT school_code, class_code, date, sum(numerator), sum(denominator) "
                    f"FROM read_parquet('{glob}', hive_partitioning=true) GROUP BY ALL").fetchall()
            duck = time.perf_counter() - t
            print(f"  duckdb: the mart's class × day sums, whole city, in {duck:.2f} s")


if __name__ == "__main__":
    main()
