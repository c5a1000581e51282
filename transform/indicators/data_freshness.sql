-- indicator: data_freshness
-- name_zh: 数据新鲜度
-- unit: days
-- aggregate: each
-- levels: school
-- grains: total
-- columns: dataset
-- definition: per school and dataset, the latest date with data up to the end of the range
-- (given as period_start = period_end) and the days from it to today in the bureau's time
-- zone (value). Attendance counts every shape (rows, exception registers, class reports);
-- health check-ins count class reports (晨午检) too; class_report and attendance_exceptions
-- also have their own rows (which shapes a school sends, and when it last did).
-- grain: one row per (school_code, dataset).
WITH dated AS (
    SELECT school_code, 'attendance' AS dataset, date AS day FROM attendance
    UNION ALL
    SELECT school_code, 'attendance' AS dataset, date AS day FROM attendance_exceptions
    UNION ALL
    SELECT school_code, 'attendance' AS dataset, date AS day FROM class_report
    UNION ALL
    SELECT school_code, 'health_report' AS dataset, date AS day FROM class_report
    UNION ALL
    SELECT school_code, 'class_report' AS dataset, date AS day FROM class_report
    UNION ALL
    SELECT school_code, 'attendance_exceptions' AS dataset, date AS day FROM attendance_exceptions
    UNION ALL
    SELECT school_code, 'health_report' AS dataset, date AS day FROM health_report
    UNION ALL
    SELECT school_code, 'enrolment' AS dataset, as_of_date AS day FROM enrolment
    UNION ALL
    SELECT school_code, 'notice_reads' AS dataset, local_date(coalesce(delivered_at, read_at)) AS day FROM notice_reads
),
latest AS (
    SELECT dated.school_code, dated.dataset, max(dated.day) AS day
    FROM dated
    WHERE dated.day <= (SELECT max(day) FROM periods)
    GROUP BY dated.school_code, dated.dataset
)
SELECT latest.school_code,
       CAST(NULL AS VARCHAR) AS class_code,
       latest.dataset,
       latest.day AS period_start,
       latest.day AS period_end,
       CAST(arrow_cast(local_date(now()), 'Int32') - arrow_cast(latest.day, 'Int32') AS BIGINT) AS value
FROM latest
