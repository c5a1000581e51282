-- indicator: absence_rate
-- name_zh: 缺勤率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_absence_rate)
-- definition: absence rows (absent, sick_leave, personal_leave) / attendance rows; from a class report
-- (expected − present) / expected.
-- grain: one row per (school_code, class_code, period); the wrapper sums numerators and
-- denominators up to the level asked for.
WITH days AS (
    SELECT school_code, class_code, date, expected - present AS num, expected
    FROM class_days
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
