-- helper: roster_day
-- definition: for each school and each day of the range, the date of the roster snapshot in
-- force: the school's latest as_of_date on or before the day. A school with no snapshot on
-- or before a day has no row for it: its roster is unknown that day, not empty.
-- grain: one row per (school_code, day).
WITH snapshots AS (
    SELECT DISTINCT school_code, as_of_date FROM enrolment
),
days AS (
    SELECT day FROM periods
)
SELECT snapshots.school_code, days.day, max(snapshots.as_of_date) AS as_of_date
FROM snapshots
JOIN days ON snapshots.as_of_date <= days.day
GROUP BY snapshots.school_code, days.day
