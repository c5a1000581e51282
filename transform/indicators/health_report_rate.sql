-- indicator: health_report_rate
-- name_zh: 健康打卡率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_health_report_rate)
-- definition: distinct students of roster(S, D) with a health report for S on D / Σ enrolled(S, D)
-- over collection days D (dates with at least one health report anywhere in the lake) with a
-- known roster. A school that sent nothing on a collection day scores 0 for it.
-- grain: one row per (school_code, class_code of the roster, period).
WITH collection_days AS (
    SELECT DISTINCT date AS day FROM health_report
),
reported AS (
    SELECT DISTINCT school_code, date AS day, student_id FROM health_report
),
expected AS (
    SELECT roster.school_code, roster.class_code, roster.day, roster.student_id
    FROM roster
    JOIN collection_days ON collection_days.day = roster.day
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
