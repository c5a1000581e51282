-- indicator: symptom_cases
-- name_zh: 症状人次
-- unit: count
-- aggregate: sum
-- levels: class school district bureau
-- by: symptom
-- mart: day (its day rows are kept in the lake as mart_symptom_cases)
-- definition: student-symptom cases per period, from both shapes: each symptom a health report
-- lists (and fever for a temperature ≥ 37.3 °C not listed as fever) is one case; a class report
-- gives its count per symptom (the largest over the day's sessions) for a class-day without
-- per-student reports (a school report for a school-day with none). `--by symptom` splits it.
-- grain: one row per (school_code, class_code, symptom, period).
WITH reports AS (
    SELECT school_code, class_code, date, temperature, symptoms FROM health_ids
),
listed AS (
    SELECT school_code, class_code, date, unnest(symptoms) AS symptom FROM reports
),
per_student AS (
    SELECT school_code, class_code, date, symptom, count(*) AS cases FROM listed
    GROUP BY school_code, class_code, date, symptom
    UNION ALL
    SELECT school_code, class_code, date, 'fever' AS symptom, count(*) AS cases FROM reports
    WHERE temperature >= 37.3 AND NOT coalesce(array_has(symptoms, 'fever'), false)
    GROUP BY school_code, class_code, date
),
report_days AS (
    SELECT DISTINCT school_code, class_code, date FROM reports
),
by_report AS (
    SELECT r.* FROM class_report_days r
    WHERE NOT EXISTS (
          SELECT 1 FROM report_days p
          WHERE p.school_code = r.school_code AND p.date = r.date
            AND (p.class_code = r.class_code OR p.class_code IS NULL OR r.class_code = '')
      )
      AND (r.class_code <> '' OR NOT EXISTS (
          SELECT 1 FROM class_report_days c
          WHERE c.school_code = r.school_code AND c.date = r.date AND c.class_code <> ''
      ))
),
from_reports AS (
    -- each symptom column of a report as a row of its own (the reports read once)
    SELECT school_code, class_code, date, symptom, cases
    FROM (
        SELECT b.school_code, b.class_code, b.date, s.symptom,
               CAST(CASE s.symptom
                    WHEN 'fever' THEN b.fever
                    WHEN 'cough' THEN b.cough
                    WHEN 'sore_throat' THEN b.sore_throat
                    WHEN 'fatigue' THEN b.fatigue
                    WHEN 'diarrhea' THEN b.diarrhea
                    WHEN 'vomiting' THEN b.vomiting
                    WHEN 'rash' THEN b.rash
                    WHEN 'jaundice' THEN b.jaundice
                    WHEN 'conjunctivitis' THEN b.conjunctivitis
                    WHEN 'parotitis' THEN b.parotitis
                    WHEN 'other' THEN b.other
               END AS BIGINT) AS cases
        FROM by_report b
        CROSS JOIN (VALUES ('fever'), ('cough'), ('sore_throat'), ('fatigue'), ('diarrhea'), ('vomiting'), ('rash'), ('jaundice'), ('conjunctivitis'), ('parotitis'), ('other')) AS s(symptom)
    )
    WHERE cases > 0
),
cases AS (
    SELECT school_code, class_code, date, symptom, cases FROM per_student
    UNION ALL
    SELECT school_code, class_code, date, symptom, cases FROM from_reports
)
SELECT cases.school_code,
       cases.class_code,
       cases.symptom,
       periods.period_start,
       periods.period_end,
       sum(cases.cases) AS numerator,
       CAST(NULL AS BIGINT) AS denominator
FROM cases
JOIN periods ON cases.date = periods.day
GROUP BY cases.school_code, cases.class_code, cases.symptom, periods.period_start, periods.period_end
