-- helper: follow_up (因病缺课追踪)
-- definition: a (school, class, date) where at least one student has been on sick_leave on 3
-- consecutive school days of that school ending on that date, the first of them at most
-- {run_days} days before the last (a run broken by a holiday longer than that starts again:
-- the rule is about an illness, not the last days before the summer). A school day of S: a
-- date on which S reported attendance in any shape (the school-days of class_days: far fewer
-- rows than the per-student rows). Counts the students, never names them.
-- reads: the days of `periods` and the {run_days} before them ({window_from} to {to}).
-- grain: one row per (school_code, class_code, date). Kept in the lake (mart_follow_up).
WITH school_days AS (
    SELECT reported.school_code, reported.date,
           row_number() OVER (PARTITION BY reported.school_code ORDER BY reported.date) AS n
    FROM (
        SELECT DISTINCT school_code, date FROM class_days WHERE date BETWEEN {window_from} AND {to}
    ) reported
),
sick AS (
    SELECT attendance_rows.school_code, attendance_rows.class_code, attendance_rows.student_id,
           attendance_rows.date, school_days.n
    FROM attendance_rows
    JOIN school_days
      ON school_days.school_code = attendance_rows.school_code AND school_days.date = attendance_rows.date
    WHERE attendance_rows.status = 'sick_leave'
      AND attendance_rows.date BETWEEN {window_from} AND {to}
),
runs AS (
    -- one row per sick day of a student (attendance_rows has one per date and student): the
    -- school-day number and the date of their sick day two before this one. The number is
    -- n - 2 exactly when the two school days before were sick days too (one pass, where
    -- joining `sick` to itself twice computed it three times)
    SELECT school_code, class_code, student_id, date, n,
           lag(n, 2) OVER (PARTITION BY school_code, student_id ORDER BY n) AS n_two_before,
           lag(date, 2) OVER (PARTITION BY school_code, student_id ORDER BY n) AS date_two_before
    FROM sick
)
SELECT runs.school_code, runs.class_code, runs.date, count(DISTINCT runs.student_id) AS count
FROM runs
JOIN periods ON periods.day = runs.date
WHERE runs.n_two_before = runs.n - 2
  AND runs.date_two_before >= runs.date - INTERVAL '{run_days}' DAY
GROUP BY runs.school_code, runs.class_code, runs.date
