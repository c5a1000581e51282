-- indicator: sick_leave_rate
-- name_zh: 病假率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_sick_leave_rate)
-- definition: rows with status sick_leave / attendance rows; from a class report sick_absent / expected
-- (a report without it is left out). An early signal of illness.
-- grain: one row per (school_code, class_code, period); the wrapper sums numerators and
-- denominators up to the level asked for.
WITH days AS (
    SELECT school_code, class_code, date, sick_absent AS num, expected
    FROM class_days
    WHERE sick_absent IS NOT NULL
)
SELECT days.school_code,
       days.class_code,
       periods.period_start,
       periods.period_end,
       sum(days.num) AS numerator,
       sum(days.expected) AS denominator
FROM days
JOIN periods ON days.date = periods.day
GROUP BY days.school_code, days.class_code, periods.period_start, periods.period_end
