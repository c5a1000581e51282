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
class_reports AS (
    SELECT r.school_code, r.class_code, r.date AS day, r.present, r.expected
    FROM class_report_days r
    WHERE r.class_code <> ''
      AND NOT EXISTS (
          SELECT 1 FROM reported
          WHERE reported.school_code = r.school_code AND reported.class_code = r.class_code AND reported.day = r.date
      )
),
school_reports AS (
    SELECT r.school_code, r.class_code, r.date AS day, r.present, r.expected
    FROM class_report_days r
    WHERE r.class_code = ''
      AND NOT EXISTS (SELECT 1 FROM reported WHERE reported.school_code = r.school_code AND reported.day = r.date)
      AND NOT EXISTS (SELECT 1 FROM class_reports c WHERE c.school_code = r.school_code AND c.day = r.date)
),
per_class_day AS (
    SELECT on_roster.school_code, on_roster.class_code, on_roster.day,
           coalesce(reported.students, 0) AS checked, on_roster.students AS students
    FROM on_roster
    LEFT JOIN reported
      ON reported.school_code = on_roster.school_code
     AND reported.class_code = on_roster.class_code
     AND reported.day = on_roster.day
    WHERE NOT EXISTS (
        SELECT 1 FROM class_reports c
        WHERE c.school_code = on_roster.school_code AND c.class_code = on_roster.class_code AND c.day = on_roster.day
    )
      AND NOT EXISTS (
        SELECT 1 FROM school_reports sr WHERE sr.school_code = on_roster.school_code AND sr.day = on_roster.day
    )
    UNION ALL
    SELECT school_code, class_code, day, present, expected FROM class_reports
    UNION ALL
    SELECT school_code, class_code, day, present, expected FROM school_reports
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
