"""Reads an edulake lake with Python's deltalake and pyarrow, readers no one here wrote.

Usage: check_lake.py JSON with keys lake, raw_counts, attendance_sample, personal.
Checks that every dataset table opens, has the row counts edulake reported, that the
current attendance view computed here with pyarrow agrees with edulake's, and that no
personal value appears in any string column.
"""
import json
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable


def main() -> None:
    args = json.loads(sys.argv[1])
    lake = args["lake"]
    personal = set(args["personal"])
    tables = {}
    for name, count in args["raw_counts"].items():
        dt = DeltaTable(f"{lake}/{name}")
        t = dt.to_pyarrow_table()
        assert t.num_rows == int(count), f"{name}: deltalake reads {t.num_rows} rows, edulake {count}"
        # The same files read by pyarrow alone, with partition values from the Delta log.
        via_pyarrow = sum(pq.ParquetFile(uri.replace("file://", "")).metadata.num_rows for uri in dt.file_uris())
        assert via_pyarrow == int(count), f"{name}: pyarrow reads {via_pyarrow} rows"
        for field in t.schema:
            if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
                values = set(pc.unique(t[field.name]).to_pylist())
                leaked = values & personal
                assert not leaked, f"{name}.{field.name} holds personal values {sorted(leaked)[:3]}"
        tables[name] = t

    # Later upload wins, computed independently: the last row per (date, student_id) by
    # (_ingested_at, _row).
    att = tables["attendance"].to_pylist()
    latest = {}
    for r in att:
        k = (r["date"], r["student_id"])
        if k not in latest or (r["_ingested_at"], r["_row"]) > (latest[k]["_ingested_at"], latest[k]["_row"]):
            latest[k] = r
    ordered = sorted(latest.values(), key=lambda r: (r["student_id"], r["date"]))[:5]
    mine = [(r["student_id"], r["status"], str(r["date"])) for r in ordered]
    theirs = [tuple(x) for x in args["attendance_sample"]]
    assert mine == theirs, f"current view differs: {mine} vs {theirs}"
    print(f"ok: {len(tables)} tables")


if __name__ == "__main__":
    main()
