"""Oracle for the indicators: every indicator computed independently with DuckDB, straight
from the lake's tables (read by Python's deltalake), compared with `edulake export`.

Usage: oracle.py LAKE EDULAKE_BINARY STATE_DIR
Written from INDICATORS.md, not from edulake's SQL: later-upload-wins, the roster in force,
calendar periods and the level roll-ups are all done again here. Prints one line per check
and exits non-zero on the first disagreement.
"""
import csv
import io
import math
import subprocess
import sys

import duckdb
from deltalake import DeltaTable

LAKE, EDULAKE, STATE = sys.argv[1], sys.argv[2], sys.argv[3]
KEYS = {
    "schools": ["school_code"],
    "enrolment": ["school_code", "as_of_date", "student_id"],
    "attendance": ["date", "student_id"],
    "health_report": ["date", "student_id"],
    "notices": ["notice_id"],
    "notice_reads": ["notice_id", "recipient_id"],
}
LEVEL_KEYS = {
    "class": ["district", "school_code", "school_name", "class_code"],
    "school": ["district", "school_code", "school_name"],
    "district": ["district"],
    "bureau": [],
}

con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
for name, key in KEYS.items():
    raw = DeltaTable(f"{LAKE}/{name}").to_pyarrow_table()
    con.register(f"raw_{name}", raw)
    con.execute(
        f"CREATE TABLE {name} AS SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER "
        f"(PARTITION BY {', '.join(key)} ORDER BY _ingested_at DESC, _row DESC) AS _rn FROM raw_{name}) WHERE _rn = 1"
    )
# Local dates in Asia/Shanghai (UTC+8, no daylight saving).
con.execute("CREATE MACRO local_day(ts) AS CAST(CAST(ts AS TIMESTAMP) + INTERVAL 8 HOUR AS DATE)")
LO, HI = con.execute(
    """SELECT min(d), max(d) FROM (
         SELECT date AS d FROM attendance UNION ALL SELECT date FROM health_report
         UNION ALL SELECT as_of_date FROM enrolment UNION ALL SELECT local_day(published_at) FROM notices)"""
).fetchone()
con.execute(f"CREATE TABLE days AS SELECT CAST(d AS DATE) AS day FROM range(DATE '{LO}', DATE '{HI}' + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)")
# roster(S, D): enrolled students of the latest snapshot on or before D.
con.execute(
    """CREATE TABLE roster AS
       WITH inforce AS (
         SELECT s.school_code, d.day, max(s.as_of_date) AS as_of_date
         FROM (SELECT DISTINCT school_code, as_of_date FROM enrolment) s JOIN days d ON s.as_of_date <= d.day
         GROUP BY ALL)
       SELECT i.school_code, i.day, e.student_id, e.class_code, e.grade, e.gender
       FROM inforce i JOIN enrolment e USING (school_code, as_of_date) WHERE e.status = 'enrolled'"""
)


def pstart(expr, grain):
    return {"day": expr, "week": f"CAST(date_trunc('week', {expr}) AS DATE)",
            "month": f"CAST(date_trunc('month', {expr}) AS DATE)", "total": f"DATE '{LO}'"}[grain]


def pend(expr, grain):
    return {"day": expr, "week": f"CAST(date_trunc('week', {expr}) AS DATE) + 6",
            "month": f"last_day({expr})", "total": f"DATE '{HI}'"}[grain]


def rollup(fact, level, grain, kind, by=()):
    """fact has school_code, class_code, day, and num/den (sum), unit (distinct) or value (median)."""
    keys = [f"s.{k}" if k in ("district", "school_name") else f"f.{k}" for k in LEVEL_KEYS[level]]
    keys += [f"f.{b}" for b in by]
    ps, pe = pstart("f.day", grain), pend("f.day", grain)
    agg = {"sum": "sum(f.num), sum(f.den)", "count": "NULL, NULL, sum(f.num)", "distinct": "NULL, NULL, count(DISTINCT f.unit)",
           "median": "NULL, NULL, median(f.value)"}[kind]
    group = ", ".join(keys + [ps, pe])
    sel = ", ".join(keys + [f"{ps} AS ps", f"{pe} AS pe", agg])
    return f"SELECT {sel} FROM ({fact}) f LEFT JOIN schools s ON s.school_code = f.school_code GROUP BY {group}"


def at_period_end(select_from_roster, grain):
    """Rows of the roster on the last day (within the range) of each period, as fact rows dated that day."""
    return f"""SELECT r.* FROM (
        SELECT max(day) AS day FROM days GROUP BY {pstart('day', grain)}) last
        JOIN ({select_from_roster}) r ON r.day = last.day"""


ATT = "'present', 'late', 'early_leave'"
ABS = "'absent', 'sick_leave', 'personal_leave'"
FEVER = "(temperature >= 37.3 OR list_contains(symptoms, 'fever'))"


def fact(ind, grain):
    """(fact SQL, kind, by columns) for an indicator."""
    if ind in ("attendance_rate", "absence_rate", "late_rate", "sick_leave_rate"):
        cond = {"attendance_rate": f"status IN ({ATT})", "absence_rate": f"status IN ({ABS})",
                "late_rate": "status = 'late'", "sick_leave_rate": "status = 'sick_leave'"}[ind]
        return f"SELECT school_code, class_code, date AS day, CASE WHEN {cond} THEN 1 ELSE 0 END AS num, 1 AS den FROM attendance", "sum"
    if ind == "attendance_reporting_rate":
        return """SELECT r.school_code, r.class_code, r.day, CASE WHEN a.student_id IS NULL THEN 0 ELSE 1 END AS num, 1 AS den
                  FROM roster r JOIN (SELECT DISTINCT school_code, date FROM attendance) sd ON sd.school_code = r.school_code AND sd.date = r.day
                  LEFT JOIN attendance a ON a.school_code = r.school_code AND a.date = r.day AND a.student_id = r.student_id""", "sum"
    if ind == "chronic_absence_rate":
        return f"""SELECT school_code, arg_max(class_code, date) AS class_code, DATE '{LO}' AS day,
                          CASE WHEN count(*) >= 10 AND sum(CASE WHEN status IN ({ABS}) THEN 1 ELSE 0 END) >= 0.1 * count(*) THEN 1 ELSE 0 END AS num,
                          CASE WHEN count(*) >= 10 THEN 1 ELSE 0 END AS den
                   FROM attendance GROUP BY school_code, student_id""", "sum"
    if ind == "health_report_rate":
        return """SELECT r.school_code, r.class_code, r.day, CASE WHEN h.student_id IS NULL THEN 0 ELSE 1 END AS num, 1 AS den
                  FROM roster r JOIN (SELECT DISTINCT date FROM health_report) c ON c.date = r.day
                  LEFT JOIN (SELECT DISTINCT school_code, date, student_id FROM health_report) h
                    ON h.school_code = r.school_code AND h.date = r.day AND h.student_id = r.student_id""", "sum"
    if ind in ("fever_rate", "symptom_rate"):
        cond = FEVER if ind == "fever_rate" else "(temperature >= 37.3 OR len(symptoms) > 0)"
        return f"SELECT school_code, class_code, date AS day, CASE WHEN {cond} THEN 1 ELSE 0 END AS num, 1 AS den FROM health_report", "sum"
    if ind == "risk_contact_count":
        return "SELECT school_code, class_code, date AS day, student_id AS unit FROM health_report WHERE risk_contact", "distinct"
    if ind == "enrolled":
        return at_period_end("SELECT school_code, class_code, day, 1 AS num FROM roster", grain), "count"
    if ind == "female_share":
        return at_period_end("SELECT school_code, class_code, day, CASE WHEN gender = 'F' THEN 1 ELSE 0 END AS num, 1 AS den FROM roster", grain), "sum"
    if ind == "pupil_teacher_ratio":
        pupils = at_period_end("SELECT school_code, NULL AS class_code, day, 1 AS num FROM roster", grain)
        return f"""SELECT p.school_code, NULL AS class_code, p.day, count(*) AS num, max(s.teacher_count) AS den
                   FROM ({pupils}) p JOIN schools s ON s.school_code = p.school_code WHERE s.teacher_count IS NOT NULL
                   GROUP BY p.school_code, p.day""", "sum"
    if ind == "transfers_out":
        return """WITH snaps AS (SELECT DISTINCT school_code, as_of_date FROM enrolment),
                  prev AS (SELECT a.school_code, a.as_of_date, (SELECT max(b.as_of_date) FROM snaps b
                           WHERE b.school_code = a.school_code AND b.as_of_date < a.as_of_date) AS prev_date FROM snaps a)
                  SELECT o.school_code, o.class_code, p.as_of_date AS day, 1 AS num
                  FROM prev p JOIN enrolment n ON n.school_code = p.school_code AND n.as_of_date = p.as_of_date AND n.status = 'transferred_out'
                  JOIN enrolment o ON o.school_code = p.school_code AND o.as_of_date = p.prev_date AND o.student_id = n.student_id AND o.status = 'enrolled'""", "count"
    if ind in ("notice_read_rate", "notice_read_24h_rate", "notice_median_hours"):
        base = """SELECT r.school_code, NULL AS class_code, local_day(n.published_at) AS day, r.delivered_at, r.read_at
                  FROM notice_reads r JOIN notices n ON n.notice_id = r.notice_id"""
        if ind == "notice_read_rate":
            return f"SELECT *, CASE WHEN read_at IS NOT NULL THEN 1 ELSE 0 END AS num, 1 AS den FROM ({base})", "sum"
        if ind == "notice_read_24h_rate":
            return f"SELECT *, CASE WHEN read_at - delivered_at <= INTERVAL 24 HOUR THEN 1 ELSE 0 END AS num, 1 AS den FROM ({base})", "sum"
        return f"SELECT *, epoch(read_at - delivered_at) / 3600.0 AS value FROM ({base}) WHERE read_at IS NOT NULL", "median"
    raise KeyError(ind)


def export(ind, level, grain):
    out = subprocess.run([EDULAKE, "--quiet", "--lake", LAKE, "--state", STATE, "export", "--indicator", ind,
                          "--level", level, "--grain", grain], capture_output=True, text=True)
    assert out.returncode == 0, f"edulake export {ind} {level} {grain}: {out.stderr}"
    return list(csv.DictReader(io.StringIO(out.stdout)))


def close(a, b):
    if a in ("", None) and b in ("", None):
        return True
    if a in ("", None) or b in ("", None):
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def check(ind, level, grain):
    sql, kind = fact(ind, grain)
    keys = LEVEL_KEYS[level]
    theirs = {}
    for row in con.execute(rollup(sql, level, grain, kind)).fetchall():
        k = tuple("" if v is None else str(v) for v in row[: len(keys)]) + (str(row[len(keys)]),)
        num, den = row[len(keys) + 2], row[len(keys) + 3]
        if kind == "sum":
            value = None if not den else num / den
            theirs[k] = ("" if num is None else str(int(num)), "" if den is None else str(int(den)), value)
        else:
            theirs[k] = ("", "", row[len(keys) + 4])
    mine = {}
    for r in export(ind, level, grain):
        k = tuple(r[c] for c in keys) + (r["period_start"],)
        mine[k] = (r["numerator"], r["denominator"], r["value"])
    # Rows with nothing to count may be absent on one side and empty on the other.
    for k in set(theirs) | set(mine):
        a, b = mine.get(k), theirs.get(k)
        if a is None or b is None:
            present = a if a is not None else (b[0], b[1], "" if b[2] is None else b[2])
            assert present[1] in ("0", "") and present[2] in ("", None, 0), f"{ind} {level} {grain} {k}: edulake {a} oracle {b}"
            continue
        assert a[0] == b[0] and a[1] == b[1] and close(a[2], b[2]), f"{ind} {level} {grain} {k}: edulake {a} oracle {b}"
    print(f"ok {ind} {level} {grain}: {len(mine)} rows")


CASES = {
    "attendance_rate": ["class", "school", "district", "bureau"],
    "absence_rate": ["school", "district"],
    "late_rate": ["school"],
    "sick_leave_rate": ["class", "school"],
    "attendance_reporting_rate": ["class", "school", "district"],
    "chronic_absence_rate": ["class", "school", "bureau"],
    "health_report_rate": ["class", "school", "bureau"],
    "fever_rate": ["school", "district"],
    "symptom_rate": ["school"],
    "risk_contact_count": ["school", "bureau"],
    "enrolled": ["class", "school", "district"],
    "female_share": ["school", "bureau"],
    "pupil_teacher_ratio": ["school", "district", "bureau"],
    "transfers_out": ["school", "bureau"],
    "notice_read_rate": ["school", "district"],
    "notice_read_24h_rate": ["school", "bureau"],
    "notice_median_hours": ["school", "bureau"],
}
n = 0
for ind, levels in CASES.items():
    grains = ["total"] if ind == "chronic_absence_rate" else ["total", "week", "day", "month"]
    for level in levels:
        for grain in grains:
            check(ind, level, grain)
            n += 1
print(f"oracle agrees on {n} exports")
