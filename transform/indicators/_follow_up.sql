-- helper: follow_up (因病缺课追踪)
-- definition: a (school, class, date) where at least one student has been on sick_leave on 3
-- consecutive school days of that school ending on that date (a school day of S: a date on
-- which S reported attendance in any shape). Counts the students, never names them. School
-- days are numbered over `lookback` (the days with data from a month before the range), so a
-- run that began before the range is seen; {lookback_from} and {to} are its first and last
-- day, so that only those days are read. The school-days are those of class_days, read from
-- what it is made of (per-student rows and reports of any shape: every school-day of one is a
-- school-day of the other) without counting each class-day.
-- grain: one row per (school_code, class_code, date).
WITH school_days AS (
    SELECT reported.school_code, reported.date,
           row_number() OVER (PARTITION BY reported.school_code ORDER BY reported.date) AS n
    FROM (
        SELECT school_code, date FROM attendance_rows WHERE date BETWEEN {lookback_from} AND {to}
        UNION
        SELECT school_code, date FROM class_report_days WHERE date BETWEEN {lookback_from} AND {to}
    ) reported
    JOIN lookback ON lookback.day = reported.date
),
sick AS (
    SELECT attendance_rows.school_code, attendance_rows.class_code, attendance_rows.student_id,
           attendance_rows.date, school_days.n
    FROM attendance_rows
    JOIN school_days
      ON school_days.school_code = attendance_rows.school_code AND school_days.date = attendance_rows.date
    WHERE attendance_rows.status = 'sick_leave'
      AND attendance_rows.date BETWEEN {lookback_from} AND {to}
)
SELECT s3.school_code, s3.class_code, s3.date, count(DISTINCT s3.student_id) AS count
FROM sick s3
JOIN periods ON periods.day = s3.date
JOIN sick s2
  ON s2.school_code = s3.school_code AND s2.student_id = s3.student_id AND s2.n = s3.n - 1
JOIN sick s1
  ON s1.school_code = s3.school_code AND s1.student_id = s3.student_id AND s1.n = s3.n - 2
GROUP BY s3.school_code, s3.class_code, s3.date
