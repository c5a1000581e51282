-- indicator: transfers_out
-- name_zh: 转出人数
-- unit: count
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_transfers_out)
-- by: grade gender
-- definition: students enrolled in school S's previous snapshot who are transferred_out in a
-- snapshot of S dated within the period. Class, grade and gender are those of the previous
-- snapshot.
-- grain: one row per (school_code, class_code, grade, gender, period).
WITH snapshots AS (
    SELECT DISTINCT school_code, as_of_date FROM enrolment
),
previous AS (
    SELECT later.school_code, later.as_of_date, max(earlier.as_of_date) AS previous_date
    FROM snapshots later
    JOIN snapshots earlier ON earlier.school_code = later.school_code AND earlier.as_of_date < later.as_of_date
    GROUP BY later.school_code, later.as_of_date
)
SELECT before.school_code,
       before.class_code,
       before.grade,
       before.gender,
       periods.period_start,
       periods.period_end,
       count(*) AS numerator,
       CAST(NULL AS BIGINT) AS denominator
FROM previous
JOIN periods ON periods.day = previous.as_of_date
JOIN enrolment_ids now
  ON now.school_code = previous.school_code AND now.as_of_date = previous.as_of_date AND now.status = 'transferred_out'
JOIN enrolment_ids before
  ON before.school_code = previous.school_code AND before.as_of_date = previous.previous_date
 AND before.student_id = now.student_id AND before.status = 'enrolled'
GROUP BY before.school_code, before.class_code, before.grade, before.gender, periods.period_start, periods.period_end
