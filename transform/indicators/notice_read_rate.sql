-- indicator: notice_read_rate
-- name_zh: 通知查阅率
-- unit: rate
-- aggregate: sum
-- levels: school district bureau
-- mart: day (its day rows are kept in the lake as mart_notice_read_rate)
-- by: notice
-- definition: read receipts with a read_at / read receipts. A notice belongs to the period in
-- which it was published (local date); a receipt belongs to the school of its row.
-- grain: one row per (school_code, notice, period).
WITH published AS (
    SELECT notice_id, title, local_date(published_at) AS day FROM notices
),
counted AS (
    -- each school's receipts of each notice counted first (38M receipts in a city: the
    -- notice's title and period are joined to the counts, not copied onto every receipt)
    SELECT notice_id, school_code,
           sum(CASE WHEN read_at IS NOT NULL THEN 1 ELSE 0 END) AS numerator,
           count(*) AS denominator
    FROM notice_reads
    GROUP BY notice_id, school_code
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
