-- indicator: symptom_rate
-- name_zh: 症状率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_symptom_rate)
-- suppressed_with: symptom_cases
-- definition: health reports with any symptom, or temperature ≥ 37.3 °C / health reports.
-- grain: one row per (school_code, class_code, period).
WITH reports AS (
    SELECT school_code, class_code, date, temperature, symptoms FROM health_ids
)
SELECT reports.school_code,
       reports.class_code,
       periods.period_start,
       periods.period_end,
       sum(CASE WHEN reports.temperature >= 37.3 OR cardinality(reports.symptoms) > 0 THEN 1 ELSE 0 END) AS numerator,
       count(*) AS denominator
FROM reports
JOIN periods ON reports.date = periods.day
GROUP BY reports.school_code, reports.class_code, periods.period_start, periods.period_end
