-- helper: id_links
-- definition: the crosswalk of REPORTING.md ("the roster is the crosswalk"): for each school
-- and local id (校内学号, 学籍辅号, UserId…), the national id (学籍号) a roster row carried
-- beside it. A roster row with several local ids links each of them (other_local_ids). The
-- latest roster wins: the later snapshot date, then the later upload.
-- grain: one row per (school_code, local_id).
WITH first_ids AS (
    SELECT school_code, local_id, student_id, as_of_date, _ingested_at
    FROM enrolment
    WHERE local_id IS NOT NULL AND student_id <> local_id
),
more_ids AS (
    -- a roster row's further local ids, one row each
    SELECT school_code, unnest(string_to_array(other_local_ids, ' ')) AS local_id,
           student_id, as_of_date, _ingested_at
    FROM enrolment
    WHERE other_local_ids IS NOT NULL AND local_id IS NOT NULL AND student_id <> local_id
),
links AS (
    SELECT * FROM first_ids
    UNION ALL
    SELECT * FROM more_ids
)
SELECT school_code, local_id, student_id
FROM (
    SELECT school_code, local_id, student_id,
           row_number() OVER (
               PARTITION BY school_code, local_id
               ORDER BY as_of_date DESC, _ingested_at DESC, student_id
           ) AS rn
    FROM links
)
WHERE rn = 1
