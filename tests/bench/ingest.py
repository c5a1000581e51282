#!/usr/bin/env python3
"""Ingest benchmark: edulake against DuckDB and Polars on the same attendance extracts.

Generates per-school attendance CSVs (default 2,000 schools x 500 students x 20 days = 20M
rows) with `edulake generate`, then in one run:
  - edulake ingest (read, validate, pseudonymise, commit to a Delta lake),
  - DuckDB  COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet),
  - Polars  scan_csv(...).sink_parquet(...),
each as its own process with the same thread count, and prints rows/s, MB/s, peak memory and
the ratios. A ratio above 1.0 means edulake is faster.

Then the same rows as a platform writes them: each school's file rewritten as a DingTalk
每日统计 export (two title rows, a two-row header, 13 columns, 正常/迟到/请假/缺卡, 工号 and
UserId, epoch-millisecond workDate), ingested by edulake with the profile its headers select,
against Polars converting the same files to Parquet (its two title rows and the header's
second row skipped, every column read as text).

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
                        "--datasets", "attendance", "--per-student", "--end", "2026-10-30"], check=True)
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

    # The same rows as DingTalk exports them, read with the dingtalk-daily profile.
    dingtalk = work / f"dingtalk-{args.schools}-{args.students}-{args.days}"
    if not (args.keep and dingtalk.exists()):
        shutil.rmtree(dingtalk, ignore_errors=True)
        dingtalk.mkdir(parents=True)
        for f in files:
            as_dingtalk(f, dingtalk / f.name)
    dfiles = sorted(dingtalk.glob("*.csv"))
    dbytes = sum(f.stat().st_size for f in dfiles)
    print(f"\nDingTalk exports: {len(dfiles)} files, {rows:,} rows, {dbytes / 1e6:.0f} MB")
    dresults = {}
    shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(work / "lake.state", ignore_errors=True)
    # A bureau whose DingTalk attendance groups are its schools (考勤组 = the school code): the
    # built-in profile with that one line more, as a bureau's own profile file.
    profile = (ROOT / "ingest/profiles/dingtalk-daily.toml").read_text(encoding="utf-8")
    profile = (profile.replace('name = "dingtalk-daily"', 'name = "dingtalk-bureau"')
               .replace('detect = ["考勤组", "上班1打卡结果"]', 'detect = ["考勤组", "上班1打卡结果", "workDate"]')
               .replace('    "考勤组", "职位",', '    "职位",')
               .replace('"部门" = "class_code"', '"部门" = "class_code"\n"考勤组" = "school_code"'))
    (work / "lake.state" / "profiles").mkdir(parents=True)
    (work / "lake.state" / "profiles" / "dingtalk-bureau.toml").write_text(profile, encoding="utf-8")
    with open(work / "ingest-dingtalk.out", "w") as out:
        dresults["edulake ingest (profile)"] = run([edulake, "--quiet", "--lake", lake, "--state", work / "lake.state",
                                                    "ingest", "--dataset", "attendance", dingtalk], env, out)
    counted = subprocess.run([edulake, "--quiet", "--lake", lake, "--state", work / "lake.state", "sql", "--format", "csv",
                              "SELECT count(*) AS n FROM raw_attendance"], env=env, capture_output=True, text=True, check=True)
    stored = int(counted.stdout.split()[-1])
    assert stored == rows, f"edulake stored {stored} DingTalk rows of {rows}"
    used = (work / "ingest-dingtalk.out").read_text()
    assert "profile dingtalk-bureau" in used, used[:500]
    out = work / "polars-dingtalk.parquet"
    pol = (f"import os; os.environ['POLARS_MAX_THREADS']='{args.threads}'; import polars as pl; "
           f"pl.scan_csv('{dingtalk}/*.csv', skip_rows=2, skip_rows_after_header=1, infer_schema=False)"
           f".sink_parquet('{out}')")
    dresults["Polars CSV to parquet"] = run([sys.executable, "-c", pol])
    for name, (secs, rss) in dresults.items():
        print(f"{name:28}{secs:9.2f}{rows / secs / 1e6:10.2f}{dbytes / secs / 1e6:8.1f}{rss:10.0f}")
    e = dresults["edulake ingest (profile)"][0]
    print(f"ratio vs Polars: {dresults['Polars CSV to parquet'][0] / e:.2f}x  (above 1.0: edulake faster)")


RESULT = {"present": "正常", "late": "迟到", "early_leave": "正常", "absent": "缺卡",
          "sick_leave": "请假", "personal_leave": "请假"}
APPROVAL = {"sick_leave": "病假 全天", "personal_leave": "事假 全天"}
WEEKDAY = "一二三四五六日"


def as_dingtalk(src, dst):
    """A school's attendance rows as DingTalk's 每日统计 export of them (CSV, UTF-8 BOM)."""
    import datetime
    with open(src, encoding="utf-8") as f:
        lines = f.read().splitlines()[1:]
    days = sorted({l.split(",", 1)[0] for l in lines})
    out = [f"每日统计 统计日期：{days[0]} 至 {days[-1]}" + "," * 12,
           "报表生成时间：2026-10-30 19:40" + "," * 12,
           "姓名,考勤组,部门,工号,职位,UserId,日期,workDate,班次,上班1打卡时间,上班1打卡结果,关联的审批单,请假",
           ",,,,,,,,,,,,事假(天)"]
    stamp = {}
    for line in lines:
        date, _school, klass, student, status = line.split(",")
        if date not in stamp:
            d = datetime.date.fromisoformat(date)
            midnight = datetime.datetime(d.year, d.month, d.day, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
            stamp[date] = (f"{d:%y-%m-%d} 星期{WEEKDAY[d.weekday()]}", str(int(midnight.timestamp() * 1000)))
        shown, ms = stamp[date]
        result = RESULT[status]
        time_in = "07:21" if result in ("正常", "迟到") else ""
        out.append(f"学生{student[-5:]},{_school},{klass},{student},学生,{student[1:]},{shown},{ms},"
                   f"早班 07:30-17:00,{time_in},{result},{APPROVAL.get(status, '')},"
                   f"{'1' if status == 'personal_leave' else ''}")
    with open(dst, "w", encoding="utf-8-sig", newline="\r\n") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
