-- indicator: notice_read_24h_rate
-- name_zh: 24小时查阅率
-- unit: rate
-- aggregate: sum
-- levels: school district bureau
-- mart: day (its day rows are kept in the lake as mart_notice_read_24h_rate)
-- by: notice
-- definition: read receipts with read_at − delivered_at ≤ 24 h / read receipts; a receipt without
-- delivered_at was delivered when its notice was published (INDICATORS.md). A notice belongs to the period in
-- which it was published (local date); a receipt belongs to the school of its row.
-- grain: one row per (school_code, notice, period).
WITH published AS (
    SELECT notice_id, title, published_at, local_date(published_at) AS day FROM notices
),
receipts AS (
    SELECT notice_id, school_code, delivered_at, read_at FROM notice_reads
)
SELECT receipts.school_code,
       CAST(NULL AS VARCHAR) AS class_code,
       published.notice_id,
       published.title,
       periods.period_start,
       periods.period_end,
       sum(CASE WHEN receipts.read_at <= coalesce(receipts.delivered_at, published.published_at) + INTERVAL '24 hours' THEN 1 ELSE 0 END) AS numerator,
       count(*) AS denominator
FROM receipts
JOIN published ON published.notice_id = receipts.notice_id
JOIN periods ON periods.day = published.day
GROUP BY receipts.school_code, published.notice_id, published.title, periods.period_start, periods.period_end
