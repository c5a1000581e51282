-- helper template: `<table>_ids` for enrolment, attendance, health_report and
-- attendance_exceptions (`{table}`, `{columns}`, `{key}` filled in for each).
-- definition: the table's rows with each person under their national pseudonym (REPORTING.md,
-- "the roster is the crosswalk"). A row sent with only a local id stores that local id's
-- pseudonym as its student_id (student_id = local_id); here it takes the national id its
-- school's rosters link to it (id_links), so a roster sent later resolves earlier rows. An
-- unresolved local id stays a person of its school. Where one person's row for the same key
-- was sent under both ids, the later upload wins.
-- grain: the table's key, with student_id resolved.
WITH sent_national AS (
    SELECT {columns} FROM {table}
    WHERE local_id IS NULL OR student_id IS NULL OR student_id <> local_id
),
sent_local AS (
    SELECT {resolved_columns}
    FROM {table} t
    LEFT JOIN id_links l ON l.school_code = t.school_code AND l.local_id = t.local_id
    WHERE t.student_id = t.local_id
),
local_latest AS (
    SELECT {columns}
    FROM (
        SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY _ingested_at DESC, local_id) AS _rn
        FROM sent_local
    )
    WHERE _rn = 1
),
-- only the keys of the other side are joined, under names of their own
local_keys AS (
    SELECT {key_as}, _ingested_at AS _at FROM local_latest
),
national_keys AS (
    SELECT {key_as}, _ingested_at AS _at FROM sent_national
)
-- the rows sent with a local id are few: each join keeps them on its build (left) side
SELECT {n_columns}
FROM local_keys l
RIGHT JOIN sent_national n ON {lk_n} AND l._at > n._ingested_at
WHERE l._at IS NULL
UNION ALL
SELECT {l_columns}
FROM local_latest l
LEFT JOIN national_keys n ON {l_nk} AND n._at >= l._ingested_at
WHERE n._at IS NULL
