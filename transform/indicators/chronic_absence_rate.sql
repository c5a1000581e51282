-- indicator: chronic_absence_rate
-- name_zh: 长期缺勤率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- grains: total
-- definition: students with ≥ 10 attendance rows in the range whose absence rows (absent,
-- sick_leave, personal_leave) are ≥ 10 % of their rows / students with ≥ 10 attendance rows
-- in the range; per (school, student). A student's class is the class of their latest row.
-- Per-student rows only (sent, or from an exception register): a class report names no one.
-- grain: one row per (school_code, student_id); each student counts once.
WITH att AS (
    SELECT attendance_rows.school_code, attendance_rows.class_code, attendance_rows.student_id,
           attendance_rows.date, attendance_rows.absence, periods.period_start, periods.period_end
    FROM attendance_rows
    JOIN periods ON attendance_rows.date = periods.day
),
per_student AS (
    SELECT school_code,
           student_id,
           period_start,
           period_end,
           last_value(class_code ORDER BY date) AS class_code,
           count(*) AS rows_in_range,
           sum(CASE WHEN absence THEN 1 ELSE 0 END) AS absences
    FROM att
    GROUP BY school_code, student_id, period_start, period_end
)
SELECT school_code,
       class_code,
       period_start,
       period_end,
       CASE WHEN rows_in_range >= 10 AND absences * 10 >= rows_in_range THEN 1 ELSE 0 END AS numerator,
       CASE WHEN rows_in_range >= 10 THEN 1 ELSE 0 END AS denominator
FROM per_student
