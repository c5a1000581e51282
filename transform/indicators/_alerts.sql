-- helper: alerts (聚集性预警)
-- definition: a (school, class, date) where at least {threshold} distinct students either report
-- fever that day (temperature ≥ 37.3 °C or fever among the symptoms) or are on sick_leave that
-- day. A health report's class is its own class_code, else the student's class in the roster
-- in force, else their class in that day's attendance. Lists the count, never the students.
-- grain: one row per (school_code, class_code, date); the school's name is added by the
-- wrapper. Kept in the lake with threshold 1 (mart_alerts), so any threshold reads from it.
WITH fever AS (
    SELECT school_code, class_code, date, student_id
    FROM health_report
    WHERE temperature >= 37.3 OR array_has(symptoms, 'fever')
),
sick AS (
    SELECT school_code, class_code, date, student_id FROM attendance WHERE status = 'sick_leave'
),
fever_classed AS (
    SELECT fever.school_code,
           coalesce(fever.class_code, roster.class_code, attendance.class_code) AS class_code,
           fever.date,
           fever.student_id
    FROM fever
    LEFT JOIN roster
      ON roster.school_code = fever.school_code AND roster.day = fever.date AND roster.student_id = fever.student_id
    LEFT JOIN attendance
      ON attendance.school_code = fever.school_code AND attendance.date = fever.date AND attendance.student_id = fever.student_id
),
ill AS (
    SELECT school_code, class_code, date, student_id FROM fever_classed
    UNION
    SELECT school_code, class_code, date, student_id FROM sick
)
SELECT ill.school_code, ill.class_code, ill.date, count(DISTINCT ill.student_id) AS count
FROM ill
JOIN periods ON periods.day = ill.date
GROUP BY ill.school_code, ill.class_code, ill.date
HAVING count(DISTINCT ill.student_id) >= {threshold}
