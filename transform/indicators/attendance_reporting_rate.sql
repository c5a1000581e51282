-- indicator: attendance_reporting_rate
-- name_zh: 考勤上报率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_attendance_reporting_rate)
-- definition: attendance rows of students in roster(S, D) / Σ enrolled(S, D) over the school
-- days D of S (dates with at least one attendance row of S) with a known roster: how
-- completely a school reports. At class level, students of that class in the roster.
-- Per-student rows are those of attendance_rows (an exception register reports every student
-- of the classes it covers); a class-day reported by a class report (or a school report) counts
-- its roster class as reported, and a day with a report of any shape is a school day.
-- grain: one row per (school_code, class_code of the roster, period). Computed from class
-- sizes of each snapshot and attendance rows matched to the snapshot in force, so no row
-- per student and day is ever made.
WITH school_days AS (
    SELECT DISTINCT school_code, date AS day FROM class_days
),
by_report AS (
    -- class-days whose attendance came as counts: the class report's class, or every class
    -- of a school report's school
    SELECT DISTINCT school_code, class_code, date AS day FROM class_days
    WHERE shape IN ('class_report', 'school_report')
),
in_force AS (
    SELECT roster_day.school_code, roster_day.day, roster_day.as_of_date
    FROM roster_day
    JOIN school_days ON school_days.school_code = roster_day.school_code AND school_days.day = roster_day.day
),
enrolled AS (
    SELECT school_code, as_of_date, class_code, student_id FROM enrolment_ids WHERE status = 'enrolled'
),
class_sizes AS (
    SELECT school_code, as_of_date, class_code, count(*) AS students
    FROM enrolled
    GROUP BY school_code, as_of_date, class_code
),
expected AS (
    SELECT in_force.school_code, class_sizes.class_code, in_force.day, class_sizes.students
    FROM in_force
    JOIN class_sizes ON class_sizes.school_code = in_force.school_code AND class_sizes.as_of_date = in_force.as_of_date
),
matched AS (
    -- each row of a student in a snapshot of its school (the small side, enrolled, first)
    SELECT attendance_rows.school_code, attendance_rows.date AS day, enrolled.as_of_date, enrolled.class_code
    FROM enrolled
    JOIN attendance_rows
      ON attendance_rows.school_code = enrolled.school_code
     AND attendance_rows.student_id = enrolled.student_id
),
reported AS (
    -- ... kept where that snapshot is the one in force that day (matching the day's snapshot
    -- first and then the student made DuckDB pair every school-day with every student of its
    -- roster: 331 s against 28 s at city scale, and edulake no faster)
    SELECT in_force.school_code, matched.class_code, in_force.day, count(*) AS students
    FROM in_force
    JOIN matched
      ON matched.school_code = in_force.school_code
     AND matched.day = in_force.day
     AND matched.as_of_date = in_force.as_of_date
    GROUP BY in_force.school_code, matched.class_code, in_force.day
)
SELECT expected.school_code,
       expected.class_code,
       periods.period_start,
       periods.period_end,
       sum(CASE WHEN by_report.school_code IS NOT NULL OR school_report.school_code IS NOT NULL
                THEN expected.students ELSE coalesce(reported.students, 0) END) AS numerator,
       sum(expected.students) AS denominator
FROM expected
JOIN periods ON periods.day = expected.day
LEFT JOIN reported
  ON reported.school_code = expected.school_code
 AND reported.class_code = expected.class_code
 AND reported.day = expected.day
LEFT JOIN by_report
  ON by_report.school_code = expected.school_code
 AND by_report.class_code = expected.class_code
 AND by_report.day = expected.day
LEFT JOIN by_report school_report
  ON school_report.school_code = expected.school_code
 AND school_report.class_code = ''
 AND school_report.day = expected.day
GROUP BY expected.school_code, expected.class_code, periods.period_start, periods.period_end
