-- helper: attendance_rows
-- definition: every per-student attendance row the indicators count (REPORTING.md): the rows
-- sent; the students an exception register lists; and, for each (school, class, date) a
-- register covers (no class: the whole school), every other student of the roster in force
-- that day in that class, present. The present rows are derived here, when reading, so a
-- roster ingested later corrects them. Where no roster is in force, a register's day counts
-- nothing, not even its listed students (its denominator is unknown, not the list). For one
-- (date, student) the latest upload wins among all three (a register sent again without a
-- student makes them present; a row sent after a register replaces its row). A leave approval
-- (a register row with a span) counts on the school days of its school inside the span: the
-- weekdays on which the school reported attendance in another shape.
-- attended: present, late, early_leave. absence: absent, sick_leave, personal_leave. This is the
-- one place that says so; every attendance indicator reads `attended` and `absence` from here.
-- source: 'rows' (sent as a row) or 'register' (listed in or derived from a register).
-- grain: one row per (date, student_id).
WITH
-- leaves: begin
leave_days AS (
    -- the (school, date) pairs only leave approvals' spans name (the weekdays of each span)
    SELECT DISTINCT school_code, date FROM exception_ids WHERE leave_start IS NOT NULL
),
leave_school_days AS (
    -- ... that are school days of the school: it reported attendance that day in another
    -- shape (rows, a class or school report, a register); a holiday inside a span is none
    SELECT school_code, date FROM leave_days l
    WHERE EXISTS (SELECT 1 FROM attendance a WHERE a.school_code = l.school_code AND a.date = l.date)
    UNION
    SELECT school_code, date FROM leave_days l
    WHERE EXISTS (SELECT 1 FROM class_report r WHERE r.school_code = l.school_code AND r.date = l.date)
    UNION
    SELECT school_code, date FROM leave_days l
    WHERE EXISTS (SELECT 1 FROM exception_ids e
                  WHERE e.leave_start IS NULL AND e.school_code = l.school_code AND e.date = l.date)
),
registered_rows AS (
    -- the registers' rows that count: all but a leave span's days that are no school day
    SELECT * FROM exception_ids WHERE leave_start IS NULL
    UNION ALL
    SELECT e.* FROM exception_ids e
    JOIN leave_school_days d ON d.school_code = e.school_code AND d.date = e.date
    WHERE e.leave_start IS NOT NULL
),
-- leaves: end
covered AS (
    SELECT school_code, class_code, date, _batch_id, _ingested_at
    FROM registered_rows
    WHERE student_id IS NULL
),
listed AS (
    SELECT date, school_code, class_code, student_id, status, _batch_id, _ingested_at, _row
    FROM registered_rows
    WHERE student_id IS NOT NULL
),
enrolled AS (
    SELECT school_code, as_of_date, class_code, student_id
    FROM enrolment_ids
    WHERE status = 'enrolled'
),
sent AS (
    SELECT date, school_code, class_code, student_id, status, _ingested_at
    FROM attendance_ids
),
snapshots AS (
    SELECT DISTINCT school_code, as_of_date FROM enrolment
),
covered_in_force AS (
    SELECT covered.school_code, covered.class_code, covered.date, covered._batch_id,
           covered._ingested_at, max(snapshots.as_of_date) AS as_of_date
    FROM covered
    JOIN snapshots
      ON snapshots.school_code = covered.school_code AND snapshots.as_of_date <= covered.date
    GROUP BY covered.school_code, covered.class_code, covered.date, covered._batch_id, covered._ingested_at
),
roster_of_covered AS (
    SELECT covered_in_force.date, covered_in_force.school_code, enrolment.class_code,
           enrolment.student_id, covered_in_force._batch_id, covered_in_force._ingested_at
    FROM covered_in_force
    JOIN enrolled enrolment
      ON enrolment.school_code = covered_in_force.school_code
     AND enrolment.as_of_date = covered_in_force.as_of_date
     AND (covered_in_force.class_code IS NULL OR enrolment.class_code = covered_in_force.class_code)
),
derived AS (
    -- the covered roster's students the same register does not list: present
    SELECT r.date, r.school_code, r.class_code, r.student_id, 'present' AS status, r._ingested_at, 0 AS _row
    FROM roster_of_covered r
    WHERE NOT EXISTS (
        SELECT 1 FROM listed
        WHERE listed._batch_id = r._batch_id AND listed.date = r.date AND listed.student_id = r.student_id
    )
),
registers_in_force AS (
    SELECT DISTINCT _batch_id, school_code, date FROM covered_in_force
),
roster_class AS (
    -- the class, in the roster of the register's day, of each listed student sent without one
    -- (looked up from those few rows, not by probing every roster row the registers cover)
    SELECT listed._batch_id, listed.date, listed.student_id, max(enrolment.class_code) AS class_code
    FROM listed
    JOIN covered_in_force c
      ON c._batch_id = listed._batch_id AND c.school_code = listed.school_code AND c.date = listed.date
    JOIN enrolled enrolment
      ON enrolment.school_code = c.school_code AND enrolment.as_of_date = c.as_of_date
     AND enrolment.student_id = listed.student_id
     AND (c.class_code IS NULL OR enrolment.class_code = c.class_code)
    WHERE listed.class_code IS NULL
    GROUP BY listed._batch_id, listed.date, listed.student_id
),
listed_classed AS (
    -- a listed student without a class takes their class in the roster of the register's day;
    -- a register's students count only where a roster is in force
    SELECT listed.date, listed.school_code,
           coalesce(listed.class_code, roster_class.class_code) AS class_code,
           listed.student_id, listed.status, listed._ingested_at, listed._row
    FROM listed
    JOIN registers_in_force f
      ON f._batch_id = listed._batch_id AND f.school_code = listed.school_code AND f.date = listed.date
    LEFT JOIN roster_class
      ON roster_class._batch_id = listed._batch_id AND roster_class.date = listed.date
     AND roster_class.student_id = listed.student_id
),
registered AS (
    SELECT date, school_code, class_code, student_id, status, _ingested_at, _row FROM listed_classed
    UNION ALL
    SELECT date, school_code, class_code, student_id, status, _ingested_at, _row FROM derived
),
picked AS (
    -- for one (date, student) listed or derived more than once, the later upload, then the
    -- later row: the greatest of texts that begin with both at a fixed width (upload time in
    -- µs since 1970, 16 digits from 2001 to 2286; row + 10^12, 13 digits) and carry the row's
    -- values, so that one plain `max` picks it (a `first_value` ordered by two columns held
    -- every row's state and spilled)
    SELECT date, student_id, max(_ingested_at) AS _ingested_at,
           max(CAST(CAST(_ingested_at AS BIGINT) AS VARCHAR)
               || CAST(_row + 1000000000000 AS VARCHAR)
               || status || '|' || school_code || '|' || coalesce('=' || class_code, '')) AS _pick
    FROM registered
    GROUP BY date, student_id
),
registered_latest AS (
    -- the values back out of the text picked (statuses and school codes hold no '|')
    SELECT date, student_id, _ingested_at,
           split_part(substr(_pick, 30), '|', 1) AS status,
           split_part(_pick, '|', 2) AS school_code,
           CASE WHEN right(_pick, 1) = '|' THEN NULL
                ELSE substr(regexp_replace(_pick, '^[^|]*[|][^|]*[|]', ''), 2) END AS class_code
    FROM picked
),
chosen AS (
    -- for a (date, student) both sent and registered, the later upload
    SELECT sent.date AS s_date, sent.school_code AS s_school, sent.class_code AS s_class,
           sent.student_id AS s_student, sent.status AS s_status,
           reg.date AS r_date, reg.school_code AS r_school, reg.class_code AS r_class,
           reg.student_id AS r_student, reg.status AS r_status,
           reg.student_id IS NULL
             OR (sent.student_id IS NOT NULL AND sent._ingested_at >= reg._ingested_at) AS use_sent
    FROM sent
    FULL OUTER JOIN registered_latest reg
      ON sent.date = reg.date AND sent.student_id = reg.student_id
),
rows_all AS (
    SELECT CASE WHEN use_sent THEN s_date ELSE r_date END AS date,
           CASE WHEN use_sent THEN s_school ELSE r_school END AS school_code,
           CASE WHEN use_sent THEN s_class ELSE r_class END AS class_code,
           CASE WHEN use_sent THEN s_student ELSE r_student END AS student_id,
           CASE WHEN use_sent THEN s_status ELSE r_status END AS status,
           CASE WHEN use_sent THEN 'rows' ELSE 'register' END AS source
    FROM chosen
)
SELECT date, school_code, class_code, student_id, status, source,
       status IN ('present', 'late', 'early_leave') AS attended,
       status IN ('absent', 'sick_leave', 'personal_leave') AS absence
FROM rows_all
