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
    SELECT school_code, class_code, date, 'fever' AS symptom, CAST(fever AS BIGINT) AS cases FROM by_report WHERE fever > 0
    UNION ALL
    SELECT school_code, class_code, date, 'cough' AS symptom, CAST(cough AS BIGINT) AS cases FROM by_report WHERE cough > 0
    UNION ALL
    SELECT school_code, class_code, date, 'sore_throat' AS symptom, CAST(sore_throat AS BIGINT) AS cases FROM by_report WHERE sore_throat > 0
    UNION ALL
    SELECT school_code, class_code, date, 'fatigue' AS symptom, CAST(fatigue AS BIGINT) AS cases FROM by_report WHERE fatigue > 0
    UNION ALL
    SELECT school_code, class_code, date, 'diarrhea' AS symptom, CAST(diarrhea AS BIGINT) AS cases FROM by_report WHERE diarrhea > 0
    UNION ALL
    SELECT school_code, class_code, date, 'vomiting' AS symptom, CAST(vomiting AS BIGINT) AS cases FROM by_report WHERE vomiting > 0
    UNION ALL
    SELECT school_code, class_code, date, 'rash' AS symptom, CAST(rash AS BIGINT) AS cases FROM by_report WHERE rash > 0
    UNION ALL
    SELECT school_code, class_code, date, 'jaundice' AS symptom, CAST(jaundice AS BIGINT) AS cases FROM by_report WHERE jaundice > 0
    UNION ALL
    SELECT school_code, class_code, date, 'conjunctivitis' AS symptom, CAST(conjunctivitis AS BIGINT) AS cases FROM by_report WHERE conjunctivitis > 0
    UNION ALL
    SELECT school_code, class_code, date, 'parotitis' AS symptom, CAST(parotitis AS BIGINT) AS cases FROM by_report WHERE parotitis > 0
    UNION ALL
    SELECT school_code, class_code, date, 'other' AS symptom, CAST(other AS BIGINT) AS cases FROM by_report WHERE other > 0
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
