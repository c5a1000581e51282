-- helper: class_days
-- definition: attendance per (school, class, date) from the finest shape the lake holds for it
-- (REPORTING.md "Precedence"): per-student rows (attendance_rows: sent, or listed in and derived
-- from an exception register) first; else the class's report (班级日报, sessions merged by
-- class_report_days); else the school's own report (no class), used for a
-- school-day only when no class of that school has rows or a class report that day (it cannot
-- be split between classes). Per-student rows give expected = rows, present = attended rows,
-- late, sick_absent and personal_absent by status; a report gives its own counts, and a count
-- it lacks is empty (left out of the indicator that needs it).
-- shape: rows (per-student rows sent), register (any from an exception register),
-- class_report or school_report: which shape the class-day's numbers came from.
-- grain: one row per (school_code, class_code, date); class_code is '' for a school report.
WITH per_student AS (
    SELECT school_code, class_code, date,
           count(*) AS expected,
           sum(CASE WHEN attended THEN 1 ELSE 0 END) AS present,
           sum(CASE WHEN status = 'late' THEN 1 ELSE 0 END) AS late,
           sum(CASE WHEN status = 'sick_leave' THEN 1 ELSE 0 END) AS sick_absent,
           sum(CASE WHEN status = 'personal_leave' THEN 1 ELSE 0 END) AS personal_absent,
           max(CASE WHEN source = 'rows' THEN 0 ELSE 1 END) AS from_register
    FROM attendance_rows
    GROUP BY school_code, class_code, date
),
per_class AS (
    -- per-student rows where a class-day has them, else its report (a class's or the school's);
    -- a union, not a join on coalesced keys, so a filter on the date reaches every table read
    SELECT school_code, class_code, date,
           CASE WHEN from_register = 1 THEN 'register' ELSE 'rows' END AS shape,
           expected, present, late, sick_absent, personal_absent
    FROM per_student
    UNION ALL
    SELECT r.school_code, r.class_code, r.date,
           CASE WHEN r.class_code = '' THEN 'school_report' ELSE 'class_report' END AS shape,
           r.expected, r.present, r.late, r.sick_absent, r.personal_absent
    FROM class_report_days r
    WHERE NOT EXISTS (
        SELECT 1 FROM attendance_rows a
        WHERE a.school_code = r.school_code AND a.class_code = r.class_code AND a.date = r.date
    )
),
with_classes AS (
    -- whether the school has any class with data that day (then its own report is not used)
    SELECT per_class.*,
           max(CASE WHEN shape = 'school_report' THEN 0 ELSE 1 END)
               OVER (PARTITION BY school_code, date) AS classes_held
    FROM per_class
)
SELECT school_code, class_code, date, shape,
       CAST(expected AS BIGINT) AS expected, CAST(present AS BIGINT) AS present,
       CAST(late AS BIGINT) AS late, CAST(sick_absent AS BIGINT) AS sick_absent,
       CAST(personal_absent AS BIGINT) AS personal_absent
FROM with_classes
WHERE shape <> 'school_report' OR classes_held = 0
