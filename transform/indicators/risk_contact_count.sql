-- indicator: risk_contact_count
-- name_zh: 风险接触人数
-- unit: count
-- aggregate: distinct
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_risk_contact_count)
-- definition: distinct students with risk_contact = true in a health report of the period.
-- grain: one row per (school_code, class_code, period, student); the wrapper counts distinct
-- students at the level asked for.
SELECT health_report.school_code,
       health_report.class_code,
       periods.period_start,
       periods.period_end,
       health_report.student_id AS unit
FROM health_ids health_report
JOIN periods ON health_report.date = periods.day
WHERE health_report.risk_contact
