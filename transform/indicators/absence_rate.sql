-- indicator: absence_rate
-- name_zh: 缺勤率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_absence_rate)
-- definition: attendance rows with an absence status (absent, sick_leave, personal_leave) / attendance rows.
-- grain: one row per (school_code, class_code, period); the wrapper sums numerators and
-- denominators up to the level asked for.
WITH att AS (
    SELECT school_code, class_code, date, status FROM attendance
),
days AS (
    SELECT day, period_start, period_end FROM periods
)
SELECT att.school_code,
       att.class_code,
       days.period_start,
       days.period_end,
       sum(CASE WHEN att.status IN ('absent', 'sick_leave', 'personal_leave') THEN 1 ELSE 0 END) AS numerator,
       count(*) AS denominator
FROM att
JOIN days ON att.date = days.day
GROUP BY att.school_code, att.class_code, days.period_start, days.period_end
