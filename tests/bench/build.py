#!/usr/bin/env python3
"""Build and export benchmark at city scale: edulake against DuckDB running the same SQL.

Default scale (issue "Indicators"): 2,000 schools, 1,000,000 students, 190 school days, a
notice every five school days with a receipt from every parent; the schools report as real
ones do (`edulake generate`): three in five send class 晨午检 reports, one in five exception
registers, one in five per-student attendance and check-ins (health on the last 60 days). In
one run:
  1. generate the extracts with `edulake generate` (kept with --keep) and ingest them into a
     lake (kept with --keep; its ingest time is shown, not compared);
  2. full build: `edulake build` from no marts, against DuckDB executing the statements of
     `edulake build --show-sql` over the same raw Parquet files (read through the Delta
     log), writing its marts as Parquet partitioned the same way;
  3. exports at school/total and district/week: `edulake export` (a whole process, opening
     the lake) against DuckDB running the SQL of `edulake export --show-sql` over its own
     marts; every edulake export is checked to equal DuckDB's, row for row;
  4. one more school day (every school's reports, registers, rows and check-ins) ingested, then
     the incremental `edulake build`, as a share of the full build.
Each engine runs as its own process with the same threads and memory limit; peak memory is
the process's maximum RSS. A ratio below 1.0 means edulake took less time.

  python3 tests/bench/build.py [--schools N] [--students N] [--days N] [--health-days N]
                               [--memory-mb N] [--keep] [--lake-only] [--work DIR]
  python3 tests/bench/build.py --schools 4 --students 400 --days 12 --health-days 5   # tiny
"""
import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ["schools", "enrolment", "attendance", "health_report", "notices", "notice_reads", "notice_read_counts", "class_report"]
DATED = {"attendance", "health_report", "class_report"}
# Exception registers: their own raw table; its current table is every row as sent, compacted.
REGISTERS = "attendance_exceptions"
EXPORTS = [
    "attendance_rate",
    "attendance_reporting_rate",
    "health_report_rate",
    "fever_rate",
    "chronic_absence_rate",
    "enrolled",
    "notice_read_rate",
    "class_reporting_rate",
    "symptom_cases",
]
SHAPES = [("school", "total"), ("district", "week")]


def run(cmd, env=None, capture=False):
    """Runs a command; returns (seconds, peak RSS in MiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    out = p.stdout.read().decode() if capture else ""
    err = p.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{err}")
    return secs, usage.ru_maxrss / 1024, out


def duck_dialect(sql):
    """The few spellings DuckDB needs: two DataFusion function names, and a timestamp as
    microseconds (DuckDB casts no timestamp to BIGINT)."""
    sql = re.sub(r"\b(first|last)_value\(", r"\1(", sql)
    return re.sub(r"CAST\(CAST\((\w+) AS BIGINT\) AS VARCHAR\)", r"CAST(epoch_us(\1) AS VARCHAR)", sql)


def duck_type(arrow):
    """DuckDB's name for an Arrow type as DataFusion's DESCRIBE prints it."""
    if arrow.startswith("Timestamp"):
        return "TIMESTAMPTZ"
    if arrow.startswith("List"):
        return "VARCHAR[]"
    return {"Utf8": "VARCHAR", "Int32": "INTEGER", "Int64": "BIGINT", "Float64": "DOUBLE",
            "Date32": "DATE", "Boolean": "BOOLEAN"}.get(arrow, "VARCHAR")


def duck_main(args):
    """The DuckDB side, in its own process: `build.py --duck PLAN.json`."""
    import duckdb
    from deltalake import DeltaTable

    plan = json.loads(Path(args.duck).read_text())
    out = Path(plan["out"])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {plan['threads']}")
    con.execute(f"SET memory_limit = '{plan['memory_mb']}MB'")
    con.execute(f"SET temp_directory = '{out / 'tmp'}'")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    # Local dates in Asia/Shanghai (UTC+8, no daylight saving); microseconds of a timestamp.
    con.execute("CREATE MACRO local_date(ts) AS CAST(CAST(ts AS TIMESTAMP) + INTERVAL 8 HOUR AS DATE)")
    con.execute("CREATE MACRO arrow_cast(x, t) AS epoch_us(x)")
    for name in DATASETS:
        columns = plan.get("columns", {}).get(name, [])
        if not (Path(plan["lake"]) / name / "_delta_log").is_dir():
            # A table this lake has no rows of: empty, with edulake's columns.
            cols = ", ".join(f"CAST(NULL AS {duck_type(t)}) AS {c}" for c, t in columns) or "NULL AS none"
            con.execute(f"CREATE VIEW raw_{name} AS SELECT {cols} WHERE false")
            continue
        files = DeltaTable(f"{plan['lake']}/{name}").file_uris()
        files = [f.removeprefix("file://") for f in files]
        hive = "true" if name in DATED else "false"
        con.execute(f"CREATE VIEW raw_{name}__files AS SELECT * FROM read_parquet({files!r}, hive_partitioning = {hive}, union_by_name = true)")
        # A column the dataset gained after these files were written reads as empty, as in
        # edulake.
        have = {r[0] for r in con.execute(f"DESCRIBE raw_{name}__files").fetchall()}
        extra = "".join(f", CAST(NULL AS {duck_type(t)}) AS {c}" for c, t in columns if c not in have)
        con.execute(f"CREATE VIEW raw_{name} AS SELECT *{extra} FROM raw_{name}__files")
    files = [f.removeprefix("file://") for f in DeltaTable(f"{plan['lake']}/{REGISTERS}").file_uris()]
    con.execute(f"CREATE VIEW raw_{REGISTERS} AS SELECT * FROM read_parquet({files!r}, hive_partitioning = true, union_by_name = true)")
    timings = {}
    for name, sql in plan["build"]:
        # Partitioned by date as edulake keeps them: the dated datasets, the registers, the
        # kept helpers (every statement before the first mart that is no dataset) and the marts.
        dated = name in DATED or name not in DATASETS
        target = out / name
        part = "PARTITION_BY (date), " if dated else ""
        dest = target if dated else Path(f"{target}.parquet")
        t0 = time.perf_counter()
        con.execute(f"COPY ({duck_dialect(sql)}) TO '{dest}' (FORMAT parquet, {part}COMPRESSION zstd)")
        timings[name] = time.perf_counter() - t0
        print(f"DuckDB {name}: {timings[name]:.1f} s", file=sys.stderr, flush=True)
        glob = f"{target}/**/*.parquet" if dated else str(dest)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{glob}', hive_partitioning = {'true' if dated else 'false'})")
    results = {}
    for key, sql in plan["exports"]:
        t0 = time.perf_counter()
        rel = con.execute(duck_dialect(sql))
        rows = rel.fetchall()
        results[key] = {"seconds": time.perf_counter() - t0, "rows": [[cell(v) for v in r] for r in rows]}
    Path(plan["result"]).write_text(json.dumps({"build": timings, "exports": results}))


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.9g}"
    return str(v)


def same_rows(ours_csv, theirs):
    ours = list(csv.reader(io.StringIO(ours_csv)))[1:]
    if len(ours) != len(theirs):
        return f"{len(ours)} rows against {len(theirs)}"
    for a, b in zip(ours, theirs):
        for x, y in zip(a, b):
            if x == y:
                continue
            try:
                if abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(y))):
                    continue
            except ValueError:
                pass
            return f"{a} against {b}"
    return None


def next_weekday(d):
    d += timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schools", type=int, default=2000)
    ap.add_argument("--students", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=190)
    ap.add_argument("--health-days", type=int, default=60)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--memory-mb", type=int, default=6144, help="edulake's memory pool")
    ap.add_argument("--duck-memory-mb", type=int, default=16384,
                    help="DuckDB's memory limit (at city scale it spills tens of GB with less)")
    ap.add_argument("--work", default="/tmp/edulake-bench-build")
    ap.add_argument("--keep", action="store_true", help="reuse the extracts and the ingested lake")
    ap.add_argument("--lake-only", action="store_true",
                    help="stop after edulake's full build: the built lake the cockpit benchmark reads")
    ap.add_argument("--duck", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.duck:
        return duck_main(args)

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--bin", "edulake"], cwd=ROOT, check=True)
    edulake = target / "release" / "edulake"
    work = Path(args.work)
    scale = f"{args.schools}-{args.students}-{args.days}-{args.health_days}"
    extracts = work / f"extracts-{scale}"
    lake = work / f"lake-{scale}"
    env = dict(os.environ, EDULAKE_KEY="bench-key-0123456789abcdef0123456789abcdef",
               EDULAKE_MEMORY_MB=str(args.memory_mb))
    base = [edulake, "--quiet", "--lake", lake, "--state", work / f"state-{scale}"]
    end = date(2026, 10, 30)
    if not (args.keep and (extracts.exists() or lake.exists())):
        shutil.rmtree(extracts, ignore_errors=True)
        secs, _, _ = run([edulake, "generate", "--out", extracts, "--schools", args.schools, "--students",
                          args.students, "--days", args.days, "--health-days", args.health_days,
                          "--end", end.isoformat()])
        print(f"generated the extracts in {secs:.0f} s")
    if not (args.keep and lake.exists()):
        shutil.rmtree(lake, ignore_errors=True)
        shutil.rmtree(work / f"state-{scale}", ignore_errors=True)
        total = 0.0
        for d in DATASETS:
            path = extracts / d if (extracts / d).is_dir() else extracts / f"{d}.csv"
            secs, _, _ = run(base + ["ingest", "--dataset", d, path], env=env)
            total += secs
            print(f"ingested {d:<14} in {secs:6.1f} s")
        secs, _, _ = run(base + ["ingest", "--dataset", "attendance", "--exceptions", extracts / REGISTERS], env=env)
        total += secs
        print(f"ingested registers      in {secs:6.1f} s")
        print(f"ingested everything in {total:.0f} s")
    rows = run(base + ["sql", "--format", "csv", "SELECT dataset, sum(rows_stored) AS rows FROM batches GROUP BY dataset ORDER BY dataset"],
               env=env, capture=True)[2]
    print("lake:", ", ".join(f"{r[0]} {int(r[1]):,}" for r in list(csv.reader(io.StringIO(rows)))[1:]))

    # 2. Full build.
    shutil.rmtree(lake / "current", ignore_errors=True)
    shutil.rmtree(lake / "marts", ignore_errors=True)
    full_s, full_mb, _ = run(base + ["build"], env=env)
    print(f"edulake full build: {full_s:.1f} s, peak {full_mb:.0f} MiB", flush=True)
    if args.lake_only:
        print(f"lake: {lake}")
        return 0
    show = run(base + ["build", "--show-sql"], env=env, capture=True)[2]
    statements = [(m.group(1), m.group(2).strip().rstrip(";"))
                  for m in re.finditer(r"-- mart: (\S+)\n(.*?);\n(?=\n-- mart: |\s*$)", show, re.S)]
    assert len(statements) == show.count("-- mart: "), "a statement of --show-sql was not read"

    # 3. Exports.
    exports, ours = [], {}
    for ind in EXPORTS:
        for level, grain in SHAPES:
            if ind == "chronic_absence_rate" and grain != "total":
                continue
            key = f"{ind} {level}/{grain}"
            flags = ["export", "--indicator", ind, "--level", level, "--grain", grain]
            sql = run(base + flags + ["--show-sql"], env=env, capture=True)[2].strip().rstrip(";")
            secs, _, out = run(base + flags, env=env, capture=True)
            exports.append((key, sql))
            ours[key] = (secs, out)

    # Each raw table's columns as edulake reads them (a lake written before a column was added
    # lacks it in its files).
    columns = {}
    for d in DATASETS:
        described = run(base + ["sql", "--format", "csv", f"DESCRIBE raw_{d}"], env=env, capture=True)[2]
        columns[d] = [(r[0], r[1]) for r in list(csv.reader(io.StringIO(described)))[1:]]
    plan_path = work / "duck-plan.json"
    result_path = work / "duck-result.json"
    plan_path.write_text(json.dumps({
        "lake": str(lake), "out": str(work / "duck"), "threads": args.threads, "memory_mb": args.duck_memory_mb,
        "build": statements, "exports": exports, "result": str(result_path), "columns": columns}))
    duck_s, duck_mb, _ = run([sys.executable, __file__, "--duck", plan_path])
    shutil.rmtree(work / "duck", ignore_errors=True)
    duck = json.loads(result_path.read_text())
    duck_build = sum(duck["build"].values())

    # 4. One more school day, then the incremental build.
    last = run(base + ["sql", "--format", "csv", "SELECT max(date) AS d FROM raw_class_report"], env=env, capture=True)[2]
    day = next_weekday(date.fromisoformat(last.splitlines()[1]))
    day_dir = work / f"day-{scale}-{day}"
    shutil.rmtree(day_dir, ignore_errors=True)
    run([edulake, "generate", "--out", day_dir, "--schools", args.schools, "--students", args.students,
         "--days", "1", "--end", day.isoformat(), "--datasets", "attendance,health_report,class_report"])
    day_ingest = sum(run(base + ["ingest", "--dataset", d, day_dir / d], env=env)[0]
                     for d in ("attendance", "health_report", "class_report"))
    day_ingest += run(base + ["ingest", "--dataset", "attendance", "--exceptions", day_dir / REGISTERS], env=env)[0]
    inc_s, inc_mb, _ = run(base + ["build"], env=env)
    check = run(base + ["sql", "--format", "csv", f"SELECT count(*) AS n FROM mart_attendance_rate WHERE date = DATE '{day}'"],
                env=env, capture=True)[2]
    assert int(check.splitlines()[1]) > 0, "the new day is not in the marts"

    print(f"\nbuild, {args.threads} threads, memory: edulake pool {args.memory_mb} MiB, DuckDB limit {args.duck_memory_mb} MiB:")
    print(f"  {'':28} {'edulake':>10} {'DuckDB':>10} {'ratio':>7}")
    print(f"  {'full build (s)':28} {full_s:10.1f} {duck_build:10.1f} {full_s / duck_build:7.2f}")
    print(f"  {'peak memory (MiB)':28} {full_mb:10.0f} {duck_mb:10.0f}")
    for name, _ in statements:
        print(f"    {name:<34} DuckDB {duck['build'][name]:7.2f} s")
    print(f"  one more day: ingest {day_ingest:.1f} s, incremental build {inc_s:.1f} s = "
          f"{100 * inc_s / full_s:.1f} % of the full build (peak {inc_mb:.0f} MiB)")
    print(f"\nexports (edulake: a whole `edulake export` process; DuckDB: the query on its open connection):")
    bad = []
    for key, _ in exports:
        secs, out = ours[key]
        d = duck["exports"][key]
        diff = same_rows(out, d["rows"])
        if diff:
            bad.append(f"{key}: {diff}")
        print(f"  {key:<44} {secs:7.2f} s {d['seconds']:7.2f} s {secs / d['seconds']:7.2f}  {len(d['rows'])} rows")
    if bad:
        sys.exit("edulake and DuckDB disagree:\n" + "\n".join(bad))
    print("every export equals DuckDB's, row for row")


if __name__ == "__main__":
    main()
