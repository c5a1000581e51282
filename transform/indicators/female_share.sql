-- indicator: female_share
-- name_zh: 女生占比
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- by: grade
-- suppressed_with: enrolled enrolled/gender
-- definition: enrolled students with gender F / enrolled students, on the last day of each
-- period within the range.
-- grain: one row per (school_code, class_code, grade, period).
WITH last_days AS (
    SELECT period_start, period_end, max(day) AS day FROM periods GROUP BY period_start, period_end
)
SELECT roster.school_code,
       roster.class_code,
       roster.grade,
       last_days.period_start,
       last_days.period_end,
       sum(CASE WHEN roster.gender = 'F' THEN 1 ELSE 0 END) AS numerator,
       count(*) AS denominator
FROM last_days
JOIN roster ON roster.day = last_days.day
GROUP BY roster.school_code, roster.class_code, roster.grade, last_days.period_start, last_days.period_end
