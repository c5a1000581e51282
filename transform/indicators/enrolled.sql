-- indicator: enrolled
-- name_zh: 在籍学生数
-- unit: count
-- aggregate: sum
-- levels: class school district bureau
-- by: grade gender
-- definition: enrolled(S, D), the students with status enrolled in the roster in force, on the
-- last day of each period within the range. Schools with an unknown roster that day count
-- nothing.
-- grain: one row per (school_code, class_code, grade, gender, period).
WITH last_days AS (
    SELECT period_start, period_end, max(day) AS day FROM periods GROUP BY period_start, period_end
)
SELECT roster.school_code,
       roster.class_code,
       roster.grade,
       roster.gender,
       last_days.period_start,
       last_days.period_end,
       count(*) AS numerator,
       CAST(NULL AS BIGINT) AS denominator
FROM last_days
JOIN roster ON roster.day = last_days.day
GROUP BY roster.school_code, roster.class_code, roster.grade, roster.gender, last_days.period_start, last_days.period_end
