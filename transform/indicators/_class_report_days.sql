-- helper: class_report_days
-- definition: class reports (班级日报) per (school, class, date), sessions merged
-- (INDICATORS.md "Reports in other shapes"): attendance counts (expected, present, late,
-- sick_absent, personal_absent) from the day's first session — morning, else day, noon,
-- evening —, each symptom count the largest over the day's sessions. class_code '' is a
-- report for the whole school.
-- grain: one row per (school_code, class_code, date).
WITH ranked AS (
    SELECT school_code, class_code, date, expected, present, late, sick_absent, personal_absent,
           row_number() OVER (
               PARTITION BY school_code, class_code, date
               ORDER BY CASE session WHEN 'morning' THEN 0 WHEN 'day' THEN 1 WHEN 'noon' THEN 2 ELSE 3 END
           ) AS rn
    FROM class_report
),
symptoms AS (
    SELECT school_code, class_code, date,
           max(fever) AS fever, max(cough) AS cough, max(sore_throat) AS sore_throat,
           max(fatigue) AS fatigue, max(diarrhea) AS diarrhea, max(vomiting) AS vomiting,
           max(rash) AS rash, max(jaundice) AS jaundice, max(conjunctivitis) AS conjunctivitis,
           max(parotitis) AS parotitis, max(other) AS other
    FROM class_report
    GROUP BY school_code, class_code, date
)
SELECT ranked.school_code, ranked.class_code, ranked.date,
       CAST(ranked.expected AS BIGINT) AS expected, CAST(ranked.present AS BIGINT) AS present,
       CAST(ranked.late AS BIGINT) AS late, CAST(ranked.sick_absent AS BIGINT) AS sick_absent,
       CAST(ranked.personal_absent AS BIGINT) AS personal_absent,
       symptoms.fever, symptoms.cough, symptoms.sore_throat, symptoms.fatigue, symptoms.diarrhea,
       symptoms.vomiting, symptoms.rash, symptoms.jaundice, symptoms.conjunctivitis,
       symptoms.parotitis, symptoms.other
FROM ranked
JOIN symptoms
  ON symptoms.school_code = ranked.school_code
 AND symptoms.class_code = ranked.class_code
 AND symptoms.date = ranked.date
WHERE ranked.rn = 1
