-- helper: roster
-- definition: roster(S, D), the students with status enrolled in school S's roster in force
-- on day D, with their class, grade and gender in that snapshot.
-- grain: one row per (school_code, day, student_id).
WITH in_force AS (
    SELECT school_code, day, as_of_date FROM roster_day
),
snapshot_rows AS (
    SELECT school_code, as_of_date, student_id, class_code, grade, gender
    FROM enrolment_ids
    WHERE status = 'enrolled'
)
SELECT in_force.school_code, in_force.day, snapshot_rows.student_id,
       snapshot_rows.class_code, snapshot_rows.grade, snapshot_rows.gender
FROM in_force
JOIN snapshot_rows
  ON snapshot_rows.school_code = in_force.school_code
 AND snapshot_rows.as_of_date = in_force.as_of_date
