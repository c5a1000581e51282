-- indicator: attendance_rate
-- name_zh: 出勤率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_attendance_rate)
-- definition: attended rows (present, late, early_leave) / attendance rows, over the school days in the
-- range; per class-day from the finest shape held (class_days): per-student rows, else a
-- class report's present / expected, else the school report's.
-- grain: one row per (school_code, class_code, period); the wrapper sums numerators and
-- denominators up to the level asked for.
WITH days AS (
    SELECT school_code, class_code, date, present AS num, expected
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
