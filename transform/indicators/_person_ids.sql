-- helper template: `<table>_ids` for enrolment, attendance, health_report and
-- attendance_exceptions (the table, its columns, key and groups filled in for each).
-- definition: the table's rows with each person under their national pseudonym (REPORTING.md,
-- "the roster is the crosswalk"). A row sent with only a local id stores that local id's
-- pseudonym as its student_id (student_id = local_id); here it takes the national id its
-- school's rosters link to it (id_links), so a roster sent later resolves earlier rows. An
-- unresolved local id stays a person of its school. Where one person's row for the same key
-- was sent under both ids, the later upload wins: that can only happen in a group (a school's
-- day, roster or register) holding rows of both kinds, so only those groups are ranked.
-- grain: the table's key, with student_id resolved.
WITH resolved AS (
    -- the links are few and the rows many: the links are the join's build (left) side
    SELECT {resolved_columns}, t.student_id = t.local_id AS _local
    FROM (SELECT school_code AS _ls, local_id AS _ll, student_id AS _ln FROM id_links) l
    RIGHT JOIN {table} t
      ON l._ls = t.school_code AND l._ll = t.local_id AND t.student_id = t.local_id
),
mixed AS (
    -- the groups with rows sent under each kind of id
    SELECT {group_as}
    FROM {table}
    GROUP BY {group}
    HAVING bool_or(student_id = local_id)
       AND bool_or(local_id IS NULL OR student_id <> local_id)
)
SELECT {r_columns}
FROM mixed m
RIGHT JOIN resolved r ON {m_r_group}
WHERE m._g0 IS NULL OR r.student_id IS NULL
UNION ALL
SELECT {columns}
FROM (
    SELECT r.*, row_number() OVER (PARTITION BY {r_key} ORDER BY r._ingested_at DESC, r._local) AS _rn
    FROM mixed m
    JOIN resolved r ON {m_r_group}
    WHERE r.student_id IS NOT NULL
)
WHERE _rn = 1
