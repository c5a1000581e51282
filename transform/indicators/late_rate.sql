-- indicator: late_rate
-- name_zh: 迟到率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_late_rate)
-- definition: attendance rows with status late / attendance rows.
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
       sum(CASE WHEN att.status IN ('late') THEN 1 ELSE 0 END) AS numerator,
       count(*) AS denominator
FROM att
JOIN days ON att.date = days.day
GROUP BY att.school_code, att.class_code, days.period_start, days.period_end
