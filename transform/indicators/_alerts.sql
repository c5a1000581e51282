-- helper: alerts (聚集性预警)
-- definition: a (school, class, date) where at least {threshold} distinct students either report
-- fever that day (temperature ≥ 37.3 °C or fever among the symptoms) or are on sick_leave that
-- day. A health report's class is its own class_code, else the student's class in the roster
-- in force, else their class in that day's attendance. Lists the count, never the students.
-- Class reports give alerts too: a class-day without per-student rows (attendance or health
-- reports) whose report counts {threshold} or more with fever or {threshold} or more sick
-- (因病缺课); its count is the larger of the two. Where both exist, the per-student count is it.
-- grain: one row per (school_code, class_code, date); the school's name is added by the
-- wrapper. Kept in the lake with threshold 1 (mart_alerts), so any threshold reads from it.
WITH fever AS (
    SELECT school_code, class_code, date, student_id
    FROM health_ids
    WHERE temperature >= 37.3 OR array_has(symptoms, 'fever')
),
sick AS (
    SELECT school_code, class_code, date, student_id FROM attendance_rows WHERE status = 'sick_leave'
),
fever_unclassed AS (
    -- a fever report sent without a class: the student's class in the roster in force (looked
    -- up for these few rows, not by expanding the roster to every day), else in that day's
    -- attendance
    SELECT fever.school_code,
           coalesce(enrolment.class_code, attendance.class_code) AS class_code,
           fever.date,
           fever.student_id
    FROM fever
    LEFT JOIN roster_day
      ON roster_day.school_code = fever.school_code AND roster_day.day = fever.date
    LEFT JOIN enrolment_ids enrolment
      ON enrolment.school_code = fever.school_code AND enrolment.as_of_date = roster_day.as_of_date
     AND enrolment.student_id = fever.student_id AND enrolment.status = 'enrolled'
    LEFT JOIN attendance_rows attendance
      ON attendance.school_code = fever.school_code AND attendance.date = fever.date AND attendance.student_id = fever.student_id
    WHERE fever.class_code IS NULL
),
ill AS (
    SELECT school_code, class_code, date, student_id FROM fever WHERE class_code IS NOT NULL
    UNION
    SELECT school_code, class_code, date, student_id FROM fever_unclassed
    UNION
    SELECT school_code, class_code, date, student_id FROM sick
),
per_student_days AS (
    -- class-days with per-student rows: attendance (class_days' own shapes), or health reports
    -- (of their own class, or classed as above when they report fever)
    SELECT school_code, class_code, date FROM class_days WHERE shape IN ('rows', 'register')
    UNION
    SELECT DISTINCT school_code, class_code, date FROM health_ids WHERE class_code IS NOT NULL
    UNION
    SELECT DISTINCT school_code, class_code, date FROM fever_unclassed
),
from_reports AS (
    SELECT r.school_code, r.class_code, r.date,
           greatest(coalesce(r.fever, 0), coalesce(r.sick_absent, 0)) AS count
    FROM class_report_days r
    JOIN periods ON periods.day = r.date
    WHERE r.class_code <> ''
      AND NOT EXISTS (
          SELECT 1 FROM per_student_days p
          WHERE p.school_code = r.school_code AND p.class_code = r.class_code AND p.date = r.date
      )
),
from_rows AS (
    SELECT ill.school_code, ill.class_code, ill.date, count(DISTINCT ill.student_id) AS count
    FROM ill
    JOIN periods ON periods.day = ill.date
    GROUP BY ill.school_code, ill.class_code, ill.date
)
SELECT school_code, class_code, date, CAST(count AS BIGINT) AS count
FROM from_rows WHERE count >= {threshold}
UNION ALL
SELECT school_code, class_code, date, CAST(count AS BIGINT) AS count
FROM from_reports WHERE count >= {threshold}
