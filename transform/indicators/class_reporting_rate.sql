-- indicator: class_reporting_rate
-- name_zh: 班级上报率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_class_reporting_rate)
-- definition: classes of roster(S, D) with an attendance report of any shape on D (per-student
-- rows, an exception register covering the class, a class report — a zero report counts — or
-- a school report, which counts for every class) / classes of roster(S, D), over attendance
-- collection days D (dates on which any school reported attendance in any shape) with a known
-- roster. A school that sent nothing on a collection day scores 0 for it. At class level each
-- class-day is 1/1 or 0/1: the classes to remind (催报).
-- grain: one row per (school_code, class_code of the roster, period).
WITH collection_days AS (
    SELECT DISTINCT date AS day FROM class_days
),
snapshot_classes AS (
    SELECT DISTINCT school_code, as_of_date, class_code FROM enrolment_ids WHERE status = 'enrolled'
),
expected AS (
    SELECT roster_day.school_code, snapshot_classes.class_code, roster_day.day
    FROM roster_day
    JOIN collection_days ON collection_days.day = roster_day.day
    JOIN snapshot_classes
      ON snapshot_classes.school_code = roster_day.school_code
     AND snapshot_classes.as_of_date = roster_day.as_of_date
),
class_reported AS (
    SELECT DISTINCT school_code, class_code, date AS day FROM class_days WHERE class_code <> ''
),
school_reported AS (
    SELECT DISTINCT school_code, date AS day FROM class_report WHERE class_code = ''
)
SELECT expected.school_code,
       expected.class_code,
       periods.period_start,
       periods.period_end,
       sum(CASE WHEN class_reported.school_code IS NOT NULL OR school_reported.school_code IS NOT NULL
                THEN 1 ELSE 0 END) AS numerator,
       count(*) AS denominator
FROM expected
JOIN periods ON periods.day = expected.day
LEFT JOIN class_reported
  ON class_reported.school_code = expected.school_code
 AND class_reported.class_code = expected.class_code
 AND class_reported.day = expected.day
LEFT JOIN school_reported
  ON school_reported.school_code = expected.school_code
 AND school_reported.day = expected.day
GROUP BY expected.school_code, expected.class_code, periods.period_start, periods.period_end
