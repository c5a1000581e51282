#!/usr/bin/env python3
"""Would Polars as our parse stage, with the cleaning vectorised, beat edulake's row-wise ingest?

Measures, on the same per-student attendance extracts as tests/bench/ingest.py and in one run:
  1. Polars' bare CSV -> Parquet conversion (the benchmark's peer);
  2. Polars' multi-threaded CSV reader alone (the parse stage such a design would have);
  3. that reader plus the ingest's work done column-at-a-time in Polars expressions: every
     cell checked as edulake checks it (dates in the window, school codes, classes, status
     words, ids present), rows with a bad cell set aside with their file and row number, every
     student id pseudonymised (HMAC-SHA256 of the normalised id, once per distinct id), the
     batch columns added, and the rows written partitioned by date, zstd level 1 as the lake;
  4. edulake's ingest itself (read, validate, pseudonymise, commit to a Delta lake).
Each as its own process with the same threads. The ratio of 3 to 4 is what replacing today's
row-wise path by a vectorised one would gain at most (3 commits nothing to a Delta log and
keeps no batch index, so it is the lower bound of such a design).

  python3 tests/bench/vectorised.py EXTRACTS_DIR [--threads N]

EXTRACTS_DIR is a folder `edulake generate --datasets attendance --per-student` wrote (its
`attendance/*.csv`), for instance the one tests/bench/ingest.py keeps under --work.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

VECTORISED = r"""
import hashlib, hmac, os, sys, uuid, datetime
import polars as pl
src, out, key = sys.argv[1], sys.argv[2], bytes.fromhex(os.environ["EDULAKE_KEY"])
today = datetime.date.today()
df = pl.read_csv(f"{src}/*.csv", infer_schema=False, include_file_paths="_file", row_index_name="_i")
df = df.with_columns(
    (pl.col("_i") - pl.col("_i").min().over("_file") + 2).alias("_row"),
    pl.col("date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False).alias("day"),
    pl.col("school_code").str.strip_chars().str.to_uppercase().alias("school"),
    pl.col("class_code").str.strip_chars().alias("class"),
    pl.col("status").str.strip_chars().alias("st"),
    pl.col("student_id").str.strip_chars().str.to_uppercase().alias("sid"),
)
good = (pl.col("day").is_not_null() & (pl.col("day") <= today) & (pl.col("day") >= datetime.date(2000, 1, 1))
        & pl.col("school").str.contains(r"^[0-9A-Z]{4,20}$") & pl.col("class").is_not_null()
        & pl.col("st").is_in(["present", "late", "early_leave", "absent", "sick_leave", "personal_leave"])
        & pl.col("sid").is_not_null())
rejects = df.filter(~good.fill_null(False)).select("_file", "_row")
rows = df.filter(good.fill_null(False))
ids = rows.select(pl.col("sid").unique())
pseudo = ids.with_columns(pl.col("sid").map_elements(
    lambda s: hmac.new(key, s.encode(), hashlib.sha256).hexdigest()[:32], return_dtype=pl.String).alias("student_id"))
batch = str(uuid.uuid4())
rows = (rows.join(pseudo, on="sid", how="left")
        .select(pl.col("day").alias("date"), pl.col("school").alias("school_code"), pl.col("class").alias("class_code"),
                "student_id", pl.lit(None, pl.String).alias("local_id"), pl.col("st").alias("status"),
                pl.lit(batch).alias("_batch_id"), pl.lit(datetime.datetime.now(datetime.timezone.utc)).alias("_ingested_at"),
                pl.col("_row").cast(pl.Int64)))
rows.write_parquet(out, partition_by="date", compression="zstd", compression_level=1)
print(rows.height, rejects.height)
"""


def run(cmd, env=None):
    """Runs a command, returns (seconds, peak RSS in MiB, its output)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{err.decode(errors='replace')}")
    return secs, out.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("extracts", type=Path)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--work", default="/tmp/edulake-vectorised")
    args = ap.parse_args()
    src = args.extracts / "attendance"
    files = sorted(src.glob("*.csv"))
    if not files:
        sys.exit(f"no attendance/*.csv under {args.extracts}")
    rows = sum(1 for f in files for _ in open(f, "rb")) - len(files)
    print(f"input: {len(files)} files, {rows:,} rows, {args.threads} threads")

    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(["cargo", "build", "--release", "--bin", "edulake"], cwd=ROOT, check=True)
    edulake = target / "release" / "edulake"
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, EDULAKE_KEY="0" * 64, POLARS_MAX_THREADS=str(args.threads))
    py = sys.executable
    results = {
        "Polars CSV to parquet": run([py, "-c", f"import polars as pl; pl.scan_csv('{src}/*.csv')"
                                      f".sink_parquet('{work}/bare.parquet')"], env),
        "Polars CSV reader alone": run([py, "-c", f"import polars as pl; print(pl.read_csv('{src}/*.csv', "
                                        "infer_schema=False).height)"], env),
        "Polars read + vectorised": run([py, "-c", VECTORISED, src, work / "vectorised"], env),
        "edulake ingest": run([edulake, "--quiet", "--lake", work / "lake", "--state", work / "lake.state",
                               "ingest", "--dataset", "attendance", src], env),
    }
    stored, rejected = map(int, results["Polars read + vectorised"][1].split())
    assert stored + rejected == rows, (stored, rejected, rows)
    print(f"{'':28}{'seconds':>9}{'M rows/s':>10}")
    for name, (secs, _) in results.items():
        print(f"{name:28}{secs:9.2f}{rows / secs / 1e6:10.2f}")
    e = results["edulake ingest"][0]
    bare = results["Polars CSV to parquet"][0]
    vec = results["Polars read + vectorised"][0]
    print(f"edulake vs bare conversion: {bare / e:.2f}x; vectorised design vs bare conversion: "
          f"{bare / vec:.2f}x; edulake vs the vectorised design: {vec / e:.2f}x (above 1.0: edulake faster)")


if __name__ == "__main__":
    main()
