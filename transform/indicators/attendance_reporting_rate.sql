-- indicator: attendance_reporting_rate
-- name_zh: 考勤上报率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_attendance_reporting_rate)
-- definition: attendance rows of students in roster(S, D) / Σ enrolled(S, D) over the school
-- days D of S (dates with at least one attendance row of S) with a known roster: how
-- completely a school reports. At class level, students of that class in the roster.
-- grain: one row per (school_code, class_code of the roster, period).
WITH school_days AS (
    SELECT DISTINCT school_code, date AS day FROM attendance
),
reported AS (
    SELECT school_code, date AS day, student_id FROM attendance
),
expected AS (
    SELECT roster.school_code, roster.class_code, roster.day, roster.student_id
    FROM roster
    JOIN school_days ON school_days.school_code = roster.school_code AND school_days.day = roster.day
)
SELECT expected.school_code,
       expected.class_code,
       periods.period_start,
       periods.period_end,
       count(reported.student_id) AS numerator,
       count(*) AS denominator
FROM expected
JOIN periods ON periods.day = expected.day
LEFT JOIN reported
  ON reported.school_code = expected.school_code
 AND reported.day = expected.day
 AND reported.student_id = expected.student_id
GROUP BY expected.school_code, expected.class_code, periods.period_start, periods.period_end
