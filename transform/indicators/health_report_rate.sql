-- indicator: health_report_rate
-- name_zh: 健康打卡率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_health_report_rate)
-- definition: distinct students of roster(S, D) with a health report for S on D / Σ enrolled(S, D)
-- over collection days D (dates with at least one health report anywhere in the lake) with a
-- known roster. A school that sent nothing on a collection day scores 0 for it.
-- A class report (晨午检) counts for a class-day without per-student reports as its present
-- checked of its expected; a school report likewise for a school-day with neither. Collection
-- days are then the dates with a health report or a class report anywhere.
-- grain: one row per (school_code, class_code of the roster, period). Computed from class
-- sizes of each snapshot and reports matched to the snapshot in force; the current view has
-- one report per student and day, so counting reports counts distinct students.
WITH collection_days AS (
    SELECT DISTINCT date AS day FROM health_report
    UNION
    SELECT DISTINCT date AS day FROM class_report
),
in_force AS (
    SELECT roster_day.school_code, roster_day.day, roster_day.as_of_date
    FROM roster_day
    JOIN collection_days ON collection_days.day = roster_day.day
),
enrolled AS (
    SELECT school_code, as_of_date, class_code, student_id FROM enrolment_ids WHERE status = 'enrolled'
),
class_sizes AS (
    SELECT school_code, as_of_date, class_code, count(*) AS students
    FROM enrolled
    GROUP BY school_code, as_of_date, class_code
),
on_roster AS (
    SELECT in_force.school_code, class_sizes.class_code, in_force.day, class_sizes.students
    FROM in_force
    JOIN class_sizes ON class_sizes.school_code = in_force.school_code AND class_sizes.as_of_date = in_force.as_of_date
),
matched AS (
    -- each row of a student in a snapshot of its school (the small side, enrolled, first)
    SELECT health_report.school_code, health_report.date AS day, enrolled.as_of_date, enrolled.class_code
    FROM enrolled
    JOIN health_ids health_report
      ON health_report.school_code = enrolled.school_code
     AND health_report.student_id = enrolled.student_id
),
reported AS (
    -- ... kept where that snapshot is the one in force that day
    SELECT in_force.school_code, matched.class_code, in_force.day, count(*) AS students
    FROM in_force
    JOIN matched
      ON matched.school_code = in_force.school_code
     AND matched.day = in_force.day
     AND matched.as_of_date = in_force.as_of_date
    GROUP BY in_force.school_code, matched.class_code, in_force.day
),
class_day AS (
    -- each class-day's candidates side by side (each part has one row per key): the roster's
    -- class size, the students checked, and the class's (class '': the school's) report
    SELECT school_code, class_code, day,
           max(students) AS students, sum(checked) AS checked, max(has_rows) AS has_rows,
           max(r_present) AS r_present, max(r_expected) AS r_expected, max(has_report) AS has_report
    FROM (
        SELECT school_code, class_code, day, students, 0 AS checked, 0 AS has_rows,
               CAST(NULL AS BIGINT) AS r_present, CAST(NULL AS BIGINT) AS r_expected, 0 AS has_report
        FROM on_roster
        UNION ALL
        SELECT school_code, class_code, day, CAST(NULL AS BIGINT) AS students, students AS checked,
               1 AS has_rows, CAST(NULL AS BIGINT) AS r_present, CAST(NULL AS BIGINT) AS r_expected,
               0 AS has_report
        FROM reported
        UNION ALL
        SELECT school_code, class_code, date AS day, CAST(NULL AS BIGINT) AS students, 0 AS checked,
               0 AS has_rows, present AS r_present, expected AS r_expected, 1 AS has_report
        FROM class_report_days
    ) parts
    GROUP BY school_code, class_code, day
),
flagged AS (
    -- a class's report counts where its class-day has no per-student reports; the school's
    -- report where no class of the school has either that day (written once, read once: a
    -- window over the school-day, not the parts again)
    SELECT school_code, class_code, day, students, checked, r_present, r_expected,
           CASE WHEN class_code <> '' AND has_report = 1 AND has_rows = 0 THEN 1 ELSE 0 END AS class_report,
           CASE WHEN max(CASE WHEN class_code = '' AND has_report = 1 THEN 1 ELSE 0 END)
                         OVER (PARTITION BY school_code, day) = 1
                 AND max(CASE WHEN has_rows = 1 OR (class_code <> '' AND has_report = 1) THEN 1 ELSE 0 END)
                         OVER (PARTITION BY school_code, day) = 0
                THEN 1 ELSE 0 END AS school_report
    FROM class_day
),
per_class_day AS (
    SELECT school_code, class_code, day,
           CASE WHEN class_report = 1 OR class_code = '' THEN r_present ELSE checked END AS checked,
           CASE WHEN class_report = 1 OR class_code = '' THEN r_expected ELSE students END AS students
    FROM flagged
    WHERE class_report = 1
       OR (class_code = '' AND school_report = 1)
       OR (class_code <> '' AND students IS NOT NULL AND school_report = 0)
)
SELECT per_class_day.school_code,
       per_class_day.class_code,
       periods.period_start,
       periods.period_end,
       sum(per_class_day.checked) AS numerator,
       sum(per_class_day.students) AS denominator
FROM per_class_day
JOIN periods ON periods.day = per_class_day.day
GROUP BY per_class_day.school_code, per_class_day.class_code, periods.period_start, periods.period_end
