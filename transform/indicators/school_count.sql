-- indicator: school_count
-- name_zh: 学校数
-- unit: count
-- aggregate: sum
-- levels: school district bureau
-- columns: school_type
-- definition: schools in the registry, by district and school_type. Not dated: every period
-- of the range counts the registry as it is.
-- grain: one row per (school_code, period).
WITH spans AS (
    SELECT DISTINCT period_start, period_end FROM periods
)
SELECT schools.school_code,
       CAST(NULL AS VARCHAR) AS class_code,
       schools.school_type,
       spans.period_start,
       spans.period_end,
       CAST(1 AS BIGINT) AS numerator,
       CAST(NULL AS BIGINT) AS denominator
FROM schools
CROSS JOIN spans
