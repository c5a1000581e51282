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
counted AS (
    -- each school's receipts of each notice counted first, with only the publication time
    -- beside each receipt (the title and period are joined to the counts)
    SELECT notice_reads.notice_id, notice_reads.school_code,
           sum(CASE WHEN notice_reads.read_at <= coalesce(notice_reads.delivered_at, published.published_at) + INTERVAL '24 hours' THEN 1 ELSE 0 END) AS numerator,
           count(*) AS denominator
    FROM notice_reads
    JOIN published ON published.notice_id = notice_reads.notice_id
    GROUP BY notice_reads.notice_id, notice_reads.school_code
)
SELECT counted.school_code,
       CAST(NULL AS VARCHAR) AS class_code,
       published.notice_id,
       published.title,
       periods.period_start,
       periods.period_end,
       sum(counted.numerator) AS numerator,
       sum(counted.denominator) AS denominator
FROM counted
JOIN published ON published.notice_id = counted.notice_id
JOIN periods ON periods.day = published.day
GROUP BY counted.school_code, published.notice_id, published.title, periods.period_start, periods.period_end
