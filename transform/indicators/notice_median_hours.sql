-- indicator: notice_median_hours
-- name_zh: 查阅时长中位数
-- unit: hours
-- aggregate: median
-- levels: school district bureau
-- mart: day (its day rows are kept in the lake as mart_notice_median_hours)
-- by: notice
-- definition: the median of (read_at − delivered_at) in hours over read receipts, by notice or
-- school; a receipt without delivered_at was delivered when its notice was published. A notice belongs to the period in which it was published.
-- grain: one row per read receipt; the wrapper takes the median at the level asked for.
WITH published AS (
    -- the notices of the periods, with their periods (a few rows), before the receipts meet
    -- them: one join over the receipts, not two
    SELECT notices.notice_id, notices.title, notices.published_at,
           periods.period_start, periods.period_end
    FROM notices
    JOIN periods ON periods.day = local_date(notices.published_at)
),
receipts AS (
    SELECT notice_id, school_code, delivered_at, read_at FROM notice_reads WHERE read_at IS NOT NULL
)
SELECT receipts.school_code,
       CAST(NULL AS VARCHAR) AS class_code,
       published.notice_id,
       published.title,
       published.period_start,
       published.period_end,
       CAST(arrow_cast(receipts.read_at, 'Int64') - arrow_cast(coalesce(receipts.delivered_at, published.published_at), 'Int64') AS DOUBLE) / 3600000000.0 AS value
FROM receipts
JOIN published ON published.notice_id = receipts.notice_id
