-- indicator: pupil_teacher_ratio
-- name_zh: 生师比
-- unit: ratio
-- aggregate: sum
-- levels: school district bureau
-- suppressed_with: enrolled
-- definition: enrolled(S, D) on the last day of the period / teacher_count of S. Schools without
-- teacher_count, or with an unknown roster that day, are left out of both sums.
-- grain: one row per (school_code, period).
WITH last_days AS (
    SELECT period_start, period_end, max(day) AS day FROM periods GROUP BY period_start, period_end
),
pupils AS (
    SELECT roster.school_code, last_days.period_start, last_days.period_end, count(*) AS enrolled
    FROM last_days
    JOIN roster ON roster.day = last_days.day
    GROUP BY roster.school_code, last_days.period_start, last_days.period_end
)
SELECT pupils.school_code,
       CAST(NULL AS VARCHAR) AS class_code,
       pupils.period_start,
       pupils.period_end,
       pupils.enrolled AS numerator,
       CAST(schools.teacher_count AS BIGINT) AS denominator
FROM pupils
JOIN schools ON schools.school_code = pupils.school_code
WHERE schools.teacher_count IS NOT NULL
