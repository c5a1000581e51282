-- helper: class_report_days
-- definition: class reports (班级日报) per (school, class, date), sessions merged
-- (INDICATORS.md "Reports in other shapes"): attendance counts (expected, present, late,
-- sick_absent, personal_absent) from the day's first session — morning, else day, noon,
-- evening —, each symptom count the largest over the day's sessions. class_code '' is a
-- report for the whole school.
-- grain: one row per (school_code, class_code, date). The current view holds at most one row
-- per session, so each count is picked from its session's column in one grouping (no window:
-- the first session is the smallest `_s`).
WITH ordered AS (
    SELECT *, CASE session WHEN 'morning' THEN 0 WHEN 'day' THEN 1 WHEN 'noon' THEN 2 ELSE 3 END AS _s
    FROM class_report
)
SELECT school_code, class_code, date,
       CAST(CASE min(_s)
           WHEN 0 THEN max(CASE WHEN _s = 0 THEN expected END)
           WHEN 1 THEN max(CASE WHEN _s = 1 THEN expected END)
           WHEN 2 THEN max(CASE WHEN _s = 2 THEN expected END)
           ELSE max(CASE WHEN _s = 3 THEN expected END) END AS BIGINT) AS expected,
       CAST(CASE min(_s)
           WHEN 0 THEN max(CASE WHEN _s = 0 THEN present END)
           WHEN 1 THEN max(CASE WHEN _s = 1 THEN present END)
           WHEN 2 THEN max(CASE WHEN _s = 2 THEN present END)
           ELSE max(CASE WHEN _s = 3 THEN present END) END AS BIGINT) AS present,
       CAST(CASE min(_s)
           WHEN 0 THEN max(CASE WHEN _s = 0 THEN late END)
           WHEN 1 THEN max(CASE WHEN _s = 1 THEN late END)
           WHEN 2 THEN max(CASE WHEN _s = 2 THEN late END)
           ELSE max(CASE WHEN _s = 3 THEN late END) END AS BIGINT) AS late,
       CAST(CASE min(_s)
           WHEN 0 THEN max(CASE WHEN _s = 0 THEN sick_absent END)
           WHEN 1 THEN max(CASE WHEN _s = 1 THEN sick_absent END)
           WHEN 2 THEN max(CASE WHEN _s = 2 THEN sick_absent END)
           ELSE max(CASE WHEN _s = 3 THEN sick_absent END) END AS BIGINT) AS sick_absent,
       CAST(CASE min(_s)
           WHEN 0 THEN max(CASE WHEN _s = 0 THEN personal_absent END)
           WHEN 1 THEN max(CASE WHEN _s = 1 THEN personal_absent END)
           WHEN 2 THEN max(CASE WHEN _s = 2 THEN personal_absent END)
           ELSE max(CASE WHEN _s = 3 THEN personal_absent END) END AS BIGINT) AS personal_absent,
       max(fever) AS fever, max(cough) AS cough, max(sore_throat) AS sore_throat,
       max(fatigue) AS fatigue, max(diarrhea) AS diarrhea, max(vomiting) AS vomiting,
       max(rash) AS rash, max(jaundice) AS jaundice, max(conjunctivitis) AS conjunctivitis,
       max(parotitis) AS parotitis, max(other) AS other
FROM ordered
GROUP BY school_code, class_code, date
