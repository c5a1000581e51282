-- indicator: notice_read_rate
-- name_zh: 通知查阅率
-- unit: rate
-- aggregate: sum
-- levels: school district bureau
-- mart: day (its day rows are kept in the lake as mart_notice_read_rate)
-- by: notice
-- definition: read receipts with a read_at / read receipts. A notice belongs to the period in
-- which it was published (local date); a receipt belongs to the school of its row. Where a
-- school has no receipt of a notice, its read statistics (notice_read_counts: readers /
-- recipients, its classes' rows if it sent any, else its whole-school row) count instead.
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
),
stated AS (
    -- read statistics, by class (shape 2) or for the whole school (shape 3)
    SELECT notice_id, school_code,
           CASE WHEN class_code <> '' THEN 2 ELSE 3 END AS shape,
           sum(read_count) AS numerator,
           sum(recipients) AS denominator
    FROM notice_read_counts
    GROUP BY notice_id, school_code, CASE WHEN class_code <> '' THEN 2 ELSE 3 END
),
shapes AS (
    SELECT notice_id, school_code, 1 AS shape, numerator, denominator FROM counted
    UNION ALL
    SELECT notice_id, school_code, shape, numerator, denominator FROM stated
),
every AS (
    -- the finest a school sent of a notice: receipts, else its classes' statistics, else its
    -- whole-school statistics
    SELECT notice_id, school_code, numerator, denominator
    FROM (
        SELECT *, min(shape) OVER (PARTITION BY notice_id, school_code) AS finest
        FROM shapes
    )
    WHERE shape = finest
)
SELECT every.school_code,
       CAST(NULL AS VARCHAR) AS class_code,
       published.notice_id,
       published.title,
       periods.period_start,
       periods.period_end,
       sum(every.numerator) AS numerator,
       sum(every.denominator) AS denominator
FROM every
JOIN published ON published.notice_id = every.notice_id
JOIN periods ON periods.day = published.day
GROUP BY every.school_code, published.notice_id, published.title, periods.period_start, periods.period_end
