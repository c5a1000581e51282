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
import os
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
    "notice_read_counts": ["notice_id", "school_code", "class_code"],
    "class_report": ["date", "school_code", "class_code", "session"],
}
LEVEL_KEYS = {
    "class": ["district", "school_code", "school_name", "class_code"],
    "school": ["district", "school_code", "school_name"],
    "district": ["district"],
    "bureau": [],
}

con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")


def raw_table(name):
    path = f"{LAKE}/{name}"
    if os.path.isdir(os.path.join(path, "_delta_log")):
        return DeltaTable(path).to_pyarrow_table()
    return None


for name, key in KEYS.items():
    raw = raw_table(name)
    if raw is None:
        raise SystemExit(f"the lake has no {name} table: the oracle's district sends every dataset")
    con.register(f"raw_{name}", raw)
    con.execute(
        f"CREATE TABLE {name} AS SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER "
        f"(PARTITION BY {', '.join(key)} ORDER BY _ingested_at DESC, _row DESC) AS _rn FROM raw_{name}) WHERE _rn = 1"
    )
# Exception registers: the listed students and the coverage rows (no student) as sent.
exc = raw_table("attendance_exceptions")
if exc is None:
    con.execute("""CREATE TABLE raw_exc (date DATE, school_code VARCHAR, class_code VARCHAR, student_id VARCHAR,
                   local_id VARCHAR, status VARCHAR, leave_start DATE, leave_end DATE, _batch_id VARCHAR,
                   _ingested_at TIMESTAMPTZ, _row BIGINT)""")
else:
    con.register("raw_exc", exc)
# Local ids (REPORTING.md, "the roster is the crosswalk"): a row sent with only a local id holds
# that id's pseudonym in student_id as well as in local_id; a roster row carrying both ids links
# them, the latest roster (snapshot date, then upload) winning. Resolved rows then compete with
# rows sent under the national id by key: the later upload wins.
# A roster row with several local ids (学号 and 学籍辅号) links each of them.
con.execute(
    """CREATE TABLE links AS SELECT school_code, local_id, student_id AS national FROM (
         SELECT *, row_number() OVER (PARTITION BY school_code, local_id
                                      ORDER BY as_of_date DESC, _ingested_at DESC) AS rn
         FROM (SELECT school_code, local_id, student_id, as_of_date, _ingested_at FROM enrolment
               WHERE local_id IS NOT NULL AND student_id <> local_id
               UNION ALL
               SELECT school_code, unnest(string_split(other_local_ids, ' ')), student_id, as_of_date, _ingested_at
               FROM enrolment WHERE other_local_ids IS NOT NULL AND local_id IS NOT NULL AND student_id <> local_id))
       WHERE rn = 1"""
)


def resolve(name, key):
    con.execute(
        f"""CREATE TABLE {name}_resolved AS
           SELECT t.* REPLACE (CASE WHEN t.student_id = t.local_id AND l.national IS NOT NULL
                                    THEN l.national ELSE t.student_id END AS student_id)
           FROM {name} t LEFT JOIN links l ON l.school_code = t.school_code AND l.local_id = t.local_id"""
    )
    con.execute(f"DROP TABLE {name}")
    if key is None:
        con.execute(f"ALTER TABLE {name}_resolved RENAME TO {name}")
        return
    con.execute(
        f"CREATE TABLE {name} AS SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER "
        f"(PARTITION BY {', '.join(key)} ORDER BY _ingested_at DESC, _row DESC) AS _rn FROM {name}_resolved) WHERE _rn = 1"
    )


for name in ["enrolment", "attendance", "health_report"]:
    resolve(name, KEYS[name])
print("local ids linked by rosters:", con.execute("SELECT count(*) FROM links").fetchone()[0])
print("check-ins resolved through a roster's further local id:", con.execute(
    """SELECT count(*) FROM health_report h
       WHERE h.student_id <> h.local_id AND EXISTS (
         SELECT 1 FROM (SELECT school_code, unnest(string_split(other_local_ids, ' ')) AS id FROM enrolment) e
         WHERE e.school_code = h.school_code AND e.id = h.local_id)""").fetchone()[0])
con.execute("CREATE TABLE raw_exc_sent AS SELECT * FROM raw_exc")
resolve("raw_exc_sent", None)
# A leave approval's span covers the school days of its school inside it (REPORTING.md): the
# days the school reported attendance in another shape. Its rows (and what it covers) on
# other days do not count.
con.execute(
    """DELETE FROM raw_exc_sent x WHERE x.leave_start IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM (SELECT school_code, date FROM attendance UNION SELECT school_code, date FROM class_report
                        UNION SELECT school_code, date FROM raw_exc WHERE leave_start IS NULL) o
         WHERE o.school_code = x.school_code AND o.date = x.date)"""
)
con.execute("CREATE VIEW raw_exc_dates AS SELECT date FROM raw_exc")
# Local dates in Asia/Shanghai (UTC+8, no daylight saving).
con.execute("CREATE MACRO local_day(ts) AS CAST(CAST(ts AS TIMESTAMP) + INTERVAL 8 HOUR AS DATE)")
LO, HI = con.execute(
    """SELECT min(d), max(d) FROM (
         SELECT date AS d FROM attendance UNION ALL SELECT date FROM health_report
         UNION ALL SELECT date FROM class_report UNION ALL SELECT date FROM raw_exc_dates
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

# REPORTING.md, written again from its text.
# The roster in force on each covered day (a register counts only where one is).
con.execute(
    """CREATE TABLE exc_inforce AS
       SELECT c.school_code, c.date, c._batch_id, max(e.as_of_date) AS as_of_date
       FROM (SELECT DISTINCT school_code, date, _batch_id FROM raw_exc_sent WHERE student_id IS NULL) c
       JOIN (SELECT DISTINCT school_code, as_of_date FROM enrolment) e
         ON e.school_code = c.school_code AND e.as_of_date <= c.date
       GROUP BY ALL"""
)
# Every candidate row of a (date, student): sent rows; listed students (their class from the
# roster when the register gives none); and every roster student of a covered class not listed
# by that register, present. Later upload wins.
con.execute(
    """CREATE TABLE att AS
       WITH listed AS (
         SELECT x.date, x.school_code,
                coalesce(x.class_code, (SELECT any_value(e.class_code) FROM enrolment e
                    WHERE e.school_code = x.school_code AND e.as_of_date = f.as_of_date AND e.student_id = x.student_id
                      AND e.status = 'enrolled')) AS class_code,
                x.student_id, x.status, x._ingested_at, x._row
         FROM raw_exc_sent x JOIN exc_inforce f USING (school_code, date, _batch_id)
         WHERE x.student_id IS NOT NULL),
       derived AS (
         SELECT c.date, c.school_code, e.class_code, e.student_id, 'present' AS status, c._ingested_at, 0 AS _row
         FROM raw_exc_sent c JOIN exc_inforce f USING (school_code, date, _batch_id)
         JOIN enrolment e ON e.school_code = c.school_code AND e.as_of_date = f.as_of_date AND e.status = 'enrolled'
                         AND (c.class_code IS NULL OR e.class_code = c.class_code)
         WHERE c.student_id IS NULL
           AND e.student_id NOT IN (SELECT l.student_id FROM raw_exc_sent l
                                    WHERE l._batch_id = c._batch_id AND l.date = c.date AND l.student_id IS NOT NULL)),
       candidates AS (
         SELECT date, school_code, class_code, student_id, status, _ingested_at, _row FROM attendance
         UNION ALL SELECT * FROM listed
         UNION ALL SELECT * FROM derived)
       SELECT date, school_code, class_code, student_id, status FROM candidates
       QUALIFY row_number() OVER (PARTITION BY date, student_id ORDER BY _ingested_at DESC, _row DESC) = 1"""
)
# Class reports: attendance from the day's first session (morning, day, noon, evening), each
# symptom the largest over the sessions.
SYMPTOMS = ["fever", "cough", "sore_throat", "fatigue", "diarrhea", "vomiting", "rash", "jaundice",
            "conjunctivitis", "parotitis", "other"]
con.execute(
    f"""CREATE TABLE reports AS
       SELECT school_code, class_code, date,
              arg_min(expected, o) AS expected, arg_min(present, o) AS present, arg_min(late, o) AS late,
              arg_min(sick_absent, o) AS sick_absent,
              {", ".join(f"max({x}) AS {x}" for x in SYMPTOMS)}
       FROM (SELECT *, CASE session WHEN 'morning' THEN 0 WHEN 'day' THEN 1 WHEN 'noon' THEN 2 ELSE 3 END AS o
             FROM class_report)
       GROUP BY school_code, class_code, date"""
)
# Which shape counts for each class-day: rows, else the class's report, else the school's
# report where no class of the school has data that day.
con.execute(
    """CREATE TABLE class_shape AS
       WITH rows_days AS (SELECT DISTINCT school_code, class_code, date FROM att)
       SELECT school_code, class_code, date, 'rows' AS shape FROM rows_days
       UNION ALL
       SELECT r.school_code, r.class_code, r.date, 'class_report' FROM reports r
       WHERE r.class_code <> '' AND (r.school_code, r.class_code, r.date) NOT IN (SELECT * FROM rows_days)
       UNION ALL
       SELECT r.school_code, r.class_code, r.date, 'school_report' FROM reports r
       WHERE r.class_code = ''
         AND (r.school_code, r.date) NOT IN (SELECT school_code, date FROM rows_days)
         AND (r.school_code, r.date) NOT IN (SELECT school_code, date FROM reports WHERE class_code <> '')"""
)
con.execute("CREATE TABLE by_report AS SELECT r.* FROM reports r JOIN class_shape c USING (school_code, class_code, date) WHERE c.shape <> 'rows'")


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
        counted = {"attendance_rate": "present", "absence_rate": "expected - present",
                   "late_rate": "late", "sick_leave_rate": "sick_absent"}[ind]
        return f"""SELECT school_code, class_code, date AS day, CASE WHEN {cond} THEN 1 ELSE 0 END AS num, 1 AS den FROM att
                   UNION ALL
                   SELECT school_code, class_code, date, {counted}, expected FROM by_report WHERE {counted} IS NOT NULL""", "sum"
    if ind == "attendance_reporting_rate":
        return """WITH sd AS (SELECT DISTINCT school_code, date FROM class_shape)
                  SELECT r.school_code, r.class_code, r.day,
                         CASE WHEN a.student_id IS NOT NULL
                                OR (r.school_code, r.class_code, r.day) IN (SELECT school_code, class_code, date FROM by_report)
                                OR (r.school_code, r.day) IN (SELECT school_code, date FROM by_report WHERE class_code = '')
                              THEN 1 ELSE 0 END AS num, 1 AS den
                  FROM roster r JOIN sd ON sd.school_code = r.school_code AND sd.date = r.day
                  LEFT JOIN att a ON a.school_code = r.school_code AND a.date = r.day AND a.student_id = r.student_id""", "sum"
    if ind == "class_reporting_rate":
        return """WITH collection AS (SELECT DISTINCT date FROM class_shape),
                  classes AS (SELECT DISTINCT school_code, class_code, day FROM roster JOIN collection ON collection.date = roster.day)
                  SELECT c.school_code, c.class_code, c.day,
                         CASE WHEN (c.school_code, c.class_code, c.day) IN (SELECT school_code, class_code, date FROM att)
                                OR (c.school_code, c.class_code, c.day) IN (SELECT school_code, class_code, date FROM reports)
                                OR (c.school_code, c.day) IN (SELECT school_code, date FROM reports WHERE class_code = '')
                              THEN 1 ELSE 0 END AS num, 1 AS den
                  FROM classes c""", "sum"
    if ind == "symptom_cases":
        cases = " UNION ALL ".join(
            f"SELECT school_code, class_code, date AS day, {x} AS num FROM h_reports WHERE {x} > 0" for x in SYMPTOMS)
        return f"""WITH per_student AS (
                      SELECT school_code, class_code, date AS day, 1 AS num FROM (SELECT school_code, class_code, date, unnest(symptoms) FROM health_report)
                      UNION ALL
                      SELECT school_code, class_code, date, 1 FROM health_report
                      WHERE temperature >= 37.3 AND NOT coalesce(list_contains(symptoms, 'fever'), false)),
                  hr_days AS (SELECT DISTINCT school_code, class_code, date FROM health_report),
                  h_reports AS (
                      SELECT r.* FROM reports r
                      WHERE NOT EXISTS (SELECT 1 FROM hr_days p WHERE p.school_code = r.school_code AND p.date = r.date
                                          AND (p.class_code = r.class_code OR p.class_code IS NULL OR r.class_code = ''))
                        AND (r.class_code <> '' OR NOT EXISTS (SELECT 1 FROM reports c WHERE c.school_code = r.school_code
                                                              AND c.date = r.date AND c.class_code <> '')))
                  SELECT * FROM per_student UNION ALL {cases}""", "count"
    if ind == "chronic_absence_rate":
        return f"""SELECT school_code, arg_max(class_code, date) AS class_code, DATE '{LO}' AS day,
                          CASE WHEN count(*) >= 10 AND sum(CASE WHEN status IN ({ABS}) THEN 1 ELSE 0 END) >= 0.1 * count(*) THEN 1 ELSE 0 END AS num,
                          CASE WHEN count(*) >= 10 THEN 1 ELSE 0 END AS den
                   FROM att GROUP BY school_code, student_id""", "sum"
    if ind == "health_report_rate":
        # Per roster class-day: the students who checked in; else the class's report (present
        # of expected); else, for the whole school-day, the school's report.
        return """WITH collection AS (SELECT DISTINCT date FROM health_report UNION SELECT DISTINCT date FROM class_report),
                  roster_days AS (SELECT r.* FROM roster r JOIN collection c ON c.date = r.day),
                  checked AS (
                    SELECT r.school_code, r.class_code, r.day, r.student_id,
                           h.student_id IS NOT NULL AS done
                    FROM roster_days r
                    LEFT JOIN (SELECT DISTINCT school_code, date, student_id FROM health_report) h
                      ON h.school_code = r.school_code AND h.date = r.day AND h.student_id = r.student_id),
                  class_has AS (SELECT DISTINCT school_code, class_code, day FROM checked WHERE done),
                  cr AS (SELECT r.school_code, r.class_code, r.date AS day, r.present, r.expected FROM reports r
                         WHERE r.class_code <> '' AND (r.school_code, r.class_code, r.date) NOT IN (SELECT * FROM class_has)),
                  sr AS (SELECT r.school_code, r.class_code, r.date AS day, r.present, r.expected FROM reports r
                         WHERE r.class_code = '' AND (r.school_code, r.date) NOT IN (SELECT school_code, day FROM class_has)
                           AND (r.school_code, r.date) NOT IN (SELECT school_code, day FROM cr))
                  SELECT school_code, class_code, day, CASE WHEN done THEN 1 ELSE 0 END AS num, 1 AS den FROM checked c
                  WHERE (school_code, class_code, day) NOT IN (SELECT school_code, class_code, day FROM cr)
                    AND (school_code, day) NOT IN (SELECT school_code, day FROM sr)
                  UNION ALL SELECT school_code, class_code, day, present, expected FROM cr
                  UNION ALL SELECT school_code, class_code, day, present, expected FROM sr""", "sum"
    if ind == "fever_rate":
        return f"""WITH hr_days AS (SELECT DISTINCT school_code, class_code, date FROM health_report),
                   fr AS (SELECT r.* FROM reports r
                          WHERE r.fever IS NOT NULL
                            AND NOT EXISTS (SELECT 1 FROM hr_days p WHERE p.school_code = r.school_code AND p.date = r.date
                                              AND (p.class_code = r.class_code OR p.class_code IS NULL OR r.class_code = ''))
                            AND (r.class_code <> '' OR NOT EXISTS (SELECT 1 FROM reports c WHERE c.school_code = r.school_code
                                     AND c.date = r.date AND c.class_code <> '' AND c.fever IS NOT NULL)))
                   SELECT school_code, class_code, date AS day, CASE WHEN {FEVER} THEN 1 ELSE 0 END AS num, 1 AS den FROM health_report
                   UNION ALL SELECT school_code, class_code, date, fever, present FROM fr""", "sum"
    if ind == "symptom_rate":
        cond = "(temperature >= 37.3 OR len(symptoms) > 0)"
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
        base = """SELECT r.school_code, NULL AS class_code, local_day(n.published_at) AS day,
                         coalesce(r.delivered_at, n.published_at) AS delivered_at, r.read_at
                  FROM notice_reads r JOIN notices n ON n.notice_id = r.notice_id"""
        if ind == "notice_read_rate":
            # Read statistics (INDICATORS.md) count for a school with no receipt of the notice:
            # its classes' rows where it sent any, else its whole-school row.
            stated = """SELECT c.school_code, NULL AS class_code, local_day(n.published_at) AS day,
                               c.read_count AS num, c.recipients AS den
                        FROM notice_read_counts c JOIN notices n ON n.notice_id = c.notice_id
                        WHERE NOT EXISTS (SELECT 1 FROM notice_reads r
                                          WHERE r.notice_id = c.notice_id AND r.school_code = c.school_code)
                          AND (c.class_code <> '' OR NOT EXISTS (
                                SELECT 1 FROM notice_read_counts k WHERE k.notice_id = c.notice_id
                                AND k.school_code = c.school_code AND k.class_code <> ''))"""
            return f"""SELECT school_code, class_code, day, CASE WHEN read_at IS NOT NULL THEN 1 ELSE 0 END AS num, 1 AS den
                       FROM ({base}) UNION ALL {stated}""", "sum"
        if ind == "notice_read_24h_rate":
            return f"SELECT *, CASE WHEN read_at - delivered_at <= INTERVAL 24 HOUR THEN 1 ELSE 0 END AS num, 1 AS den FROM ({base})", "sum"
        return f"SELECT *, epoch(read_at - delivered_at) / 3600.0 AS value FROM ({base}) WHERE read_at IS NOT NULL", "median"
    raise KeyError(ind)


def export(ind, level, grain, filters=None):
    extra = [a for k, v in (filters or {}).items() for a in (f"--{k.replace('_', '-')}", str(v))]
    out = subprocess.run([EDULAKE, "--quiet", "--lake", LAKE, "--state", STATE, "export", "--indicator", ind,
                          "--level", level, "--grain", grain] + extra, capture_output=True, text=True)
    assert out.returncode == 0, f"edulake export {ind} {level} {grain}: {out.stderr}"
    return list(csv.DictReader(io.StringIO(out.stdout)))


def close(a, b):
    if a in ("", None) and b in ("", None):
        return True
    if a in ("", None) or b in ("", None):
        return False
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def filtered(sql, filters):
    """The fact rows the filters keep: a school's type from the registry; a class's grade from
    the roster (its latest grade there), else as its code is written (`7-1`)."""
    conds = ["true"]
    if "school_type" in filters:
        conds.append(f"f.school_code IN (SELECT school_code FROM schools WHERE school_type = '{filters['school_type']}')")
    if "grade" in filters:
        g = int(filters["grade"])
        conds.append(f"coalesce(gr.grade = {g}, try_cast(split_part(f.class_code, '-', 1) AS INTEGER) = {g}, false)")
    return f"""SELECT f.* FROM ({sql}) f
               LEFT JOIN (SELECT school_code, class_code, max(grade) AS grade FROM enrolment GROUP BY ALL) gr
                 ON gr.school_code = f.school_code AND gr.class_code = f.class_code
               WHERE {' AND '.join(conds)}"""


def check(ind, level, grain, filters=None):
    sql, kind = fact(ind, grain)
    if filters:
        sql = filtered(sql, filters)
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
    for r in export(ind, level, grain, filters):
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
    print(f"ok {ind} {level} {grain}{' ' + str(filters) if filters else ''}: {len(mine)} rows")


CASES = {
    "attendance_rate": ["class", "school", "district", "bureau"],
    "absence_rate": ["school", "district"],
    "late_rate": ["school"],
    "sick_leave_rate": ["class", "school"],
    "attendance_reporting_rate": ["class", "school", "district"],
    "class_reporting_rate": ["class", "school", "bureau"],
    "symptom_cases": ["school", "district"],
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


# Filtered: the schools of a type, the classes of a grade, both.
FILTERED = [
    ("attendance_rate", "district", "total", {"school_type": "primary"}),
    ("attendance_rate", "bureau", "week", {"school_type": "primary", "grade": 4}),
    ("attendance_rate", "school", "day", {"grade": 2}),
    ("attendance_rate", "district", "month", {"grade": 1}),
    ("absence_rate", "class", "total", {"school_type": "primary", "grade": 5}),
    ("attendance_reporting_rate", "school", "week", {"grade": 3}),
]
for ind, level, grain, filters in FILTERED:
    check(ind, level, grain, filters)
    n += 1


def alerts_check():
    """Cluster and follow-up alerts (INDICATORS.md) computed again, against `edulake alerts`."""
    mine = subprocess.run([EDULAKE, "--quiet", "--lake", LAKE, "--state", STATE, "alerts", "--kind", "all"],
                          capture_output=True, text=True)
    assert mine.returncode == 0, mine.stderr
    mine = sorted(tuple(r) for r in list(csv.reader(io.StringIO(mine.stdout)))[1:])
    theirs = con.execute(
        f"""WITH fever AS (
              SELECT h.school_code, coalesce(h.class_code, r.class_code, a.class_code) AS class_code, h.date, h.student_id
              FROM health_report h
              LEFT JOIN roster r ON r.school_code = h.school_code AND r.day = h.date AND r.student_id = h.student_id
              LEFT JOIN att a ON a.school_code = h.school_code AND a.date = h.date AND a.student_id = h.student_id
              WHERE {FEVER}),
            ill AS (SELECT * FROM fever UNION SELECT school_code, class_code, date, student_id FROM att WHERE status = 'sick_leave'),
            from_rows AS (SELECT school_code, class_code, date, count(DISTINCT student_id) AS n FROM ill GROUP BY ALL),
            per_student AS (SELECT school_code, class_code, date FROM att
                            UNION SELECT school_code, class_code, date FROM health_report WHERE class_code IS NOT NULL
                            UNION SELECT school_code, class_code, date FROM fever),
            from_reports AS (SELECT school_code, class_code, date, greatest(coalesce(fever, 0), coalesce(sick_absent, 0)) AS n
                             FROM reports r WHERE class_code <> ''
                               AND (school_code, class_code, date) NOT IN (SELECT * FROM per_student)),
            school_days AS (SELECT school_code, date, row_number() OVER (PARTITION BY school_code ORDER BY date) AS k
                            FROM (SELECT DISTINCT school_code, date FROM class_shape)),
            sick AS (SELECT a.school_code, a.class_code, a.student_id, a.date, d.k FROM att a
                     JOIN school_days d USING (school_code, date) WHERE a.status = 'sick_leave'),
            follow AS (SELECT s.school_code, s.class_code, s.date, count(DISTINCT s.student_id) AS n FROM sick s
                       WHERE EXISTS (SELECT 1 FROM sick p WHERE p.school_code = s.school_code AND p.student_id = s.student_id AND p.k = s.k - 1)
                         AND EXISTS (SELECT 1 FROM sick q WHERE q.school_code = s.school_code AND q.student_id = s.student_id AND q.k = s.k - 2
                                     AND q.date >= s.date - INTERVAL 31 DAY)
                       GROUP BY ALL),
            alerts AS (SELECT 'cluster' AS kind, * FROM from_rows WHERE n >= 3
                       UNION ALL SELECT 'cluster', * FROM from_reports WHERE n >= 3
                       UNION ALL SELECT 'follow_up', * FROM follow)
          SELECT a.kind, s.district, a.school_code, s.school_name, a.class_code, CAST(a.date AS VARCHAR), CAST(a.n AS VARCHAR)
          FROM alerts a LEFT JOIN schools s USING (school_code)"""
    ).fetchall()
    theirs = sorted(tuple("" if v is None else str(v) for v in r) for r in theirs)
    assert mine == theirs, f"alerts: edulake {mine[:5]}... oracle {theirs[:5]}..."
    kinds = {k for k, *_ in mine}
    print(f"ok alerts: {len(mine)} ({', '.join(sorted(kinds))})")


alerts_check()
stated = con.execute("SELECT count(DISTINCT school_code) FROM notice_read_counts").fetchone()[0]
print(f"schools with read statistics: {stated}")
print(f"oracle agrees on {n} exports and the alerts")
