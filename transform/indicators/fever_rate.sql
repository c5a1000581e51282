-- indicator: fever_rate
-- name_zh: 发热率
-- unit: rate
-- aggregate: sum
-- levels: class school district bureau
-- mart: day (its day rows are kept in the lake as mart_fever_rate)
-- suppressed_with: symptom_cases/symptom=fever
-- definition: health reports with temperature ≥ 37.3 °C or fever among the symptoms / health
-- reports. A class report counts for a class-day without per-student reports (a school report
-- for a school-day with none) as fever / present; one without a fever count is left out.
-- grain: one row per (school_code, class_code, period).
WITH reports AS (
    SELECT school_code, class_code, date, temperature, symptoms FROM health_ids
),
per_student AS (
    SELECT school_code, class_code, date,
           sum(CASE WHEN temperature >= 37.3 OR array_has(symptoms, 'fever') THEN 1 ELSE 0 END) AS fever,
           count(*) AS checked
    FROM reports
    GROUP BY school_code, class_code, date
),
by_report AS (
    -- a report whose class-day has no per-student reports (a report without a class
    -- supersedes every class report of its school-day)
    SELECT r.school_code, r.class_code, r.date, r.fever, r.present AS checked
    FROM class_report_days r
    WHERE r.fever IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM per_student p
          WHERE p.school_code = r.school_code AND p.date = r.date
            AND (p.class_code = r.class_code OR p.class_code IS NULL OR r.class_code = '')
      )
      AND (r.class_code <> '' OR NOT EXISTS (
          SELECT 1 FROM class_report_days c
          WHERE c.school_code = r.school_code AND c.date = r.date AND c.class_code <> '' AND c.fever IS NOT NULL
      ))
),
days AS (
    SELECT school_code, class_code, date, fever, checked FROM per_student
    UNION ALL
    SELECT school_code, class_code, date, CAST(fever AS BIGINT), checked FROM by_report
)
SELECT days.school_code,
       days.class_code,
       periods.period_start,
       periods.period_end,
       sum(days.fever) AS numerator,
       sum(days.checked) AS denominator
FROM days
JOIN periods ON days.date = periods.day
GROUP BY days.school_code, days.class_code, periods.period_start, periods.period_end
