//! Parsing one cell: the date, timestamp, boolean, number and grade forms DATA.md accepts.
//!
//! Every function returns `Err(reason)` with a sentence a clerk can act on; none panics.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use edulake_schemas::vocab::{FALSE_WORDS, TRUE_WORDS};
use edulake_schemas::{msg, words::Msg};

pub use edulake_schemas::lake::{date_from_days, days_since_epoch};

/// An Excel serial day number (days since 1899-12-30, the 1900 leap-year bug included).
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    if y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A date followed by a weekday (`星期一`, `周一`, `(周一)`, `礼拜一`): the date, and the weekday
/// from Monday = 0.
fn strip_weekday(s: &str) -> Option<(&str, u32)> {
    const DAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];
    for word in ["星期", "周", "礼拜"] {
        let Some(at) = s.find(word) else { continue };
        let rest = s[at + word.len()..].trim_end_matches([')', '）', ' ']);
        let day = if rest == "天" {
            6
        } else {
            DAYS.iter().position(|d| *d == rest)? as u32
        };
        let date = s[..at].trim_end_matches(['(', '（', ' ', '\u{3000}']);
        return (!date.is_empty()).then_some((date, day));
    }
    None
}

/// A date in any accepted form: `2026-09-01`, `2026/9/1`, `2026.9.1`, `20260901`,
/// `2026年9月1日`, a platform's `26-11-16 星期一` (two-digit year, weekday), and, from a
/// spreadsheet, an Excel serial number.
pub fn parse_date(s: &str, spreadsheet: bool) -> Result<NaiveDate, Msg> {
    let mut s = s.trim();
    // A weekday after the date (`26-11-16 星期一`, `2026-11-16(周一)`) says nothing more; it is
    // checked against the date so a typo in either is caught.
    if let Some((date, weekday)) = strip_weekday(s) {
        let d = parse_date(date, false)?;
        if d.weekday().num_days_from_monday() != weekday {
            return Err(msg!("not_that_weekday", value = s, date = d));
        }
        return Ok(d);
    }
    // A timestamp where a date is asked for (a spreadsheet cell or text with a time of
    // day, `2026-10-12 08:00`): its date, the local one as the file writes local times.
    if let Some((d, t)) = s.split_once(' ') {
        if t.contains(':') {
            s = d;
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() == 8 && bytes.iter().all(u8::is_ascii_digit) {
        return ymd(&s[0..4], &s[4..6], &s[6..8])
            .ok_or_else(|| msg!("not_a_valid_date", value = s));
    }
    // Fast path for the ISO form.
    if bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-' {
        if let Some(d) = ymd(&s[0..4], &s[5..7], &s[8..10]) {
            return Ok(d);
        }
    }
    if spreadsheet {
        if let Ok(serial) = s.parse::<f64>() {
            if let Some(d) = excel_serial_date(serial) {
                return Ok(d);
            }
        }
    }
    // Exactly three runs of digits: no sign, no empty part, nothing before or after
    // (`-2026-01-01` is not 2026-01-01).
    let body = s.strip_suffix('日').unwrap_or(s);
    let parts: Vec<&str> = body.split(['-', '/', '.', '年', '月']).collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        if let Some(d) = ymd(parts[0], parts[1], parts[2]) {
            return Ok(d);
        }
        // `26-11-16` as DingTalk writes it: year first, this century. Only with dashes and two
        // digits in each part, so `16/11/26` is not read as 2016.
        if body.contains('-') && parts.iter().all(|p| p.len() == 2) {
            if let Some(d) = ymd(&format!("20{}", parts[0]), parts[1], parts[2]) {
                return Ok(d);
            }
        }
    }
    Err(msg!("not_a_date", value = s))
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    let mut it = s.split(':');
    let h: u32 = it.next()?.trim().parse().ok()?;
    let m: u32 = it.next()?.trim().parse().ok()?;
    let sec: f64 = match it.next() {
        Some(x) => x.trim().parse().ok()?,
        None => 0.0,
    };
    if it.next().is_some() || !(0.0..60.0).contains(&sec) {
        return None;
    }
    let whole = sec.trunc() as u32;
    let micros = ((sec - sec.trunc()) * 1e6).round() as u32;
    NaiveTime::from_hms_micro_opt(h, m, whole, micros.min(999_999))
}

/// A timestamp: a date form followed by `HH:MM` or `HH:MM:SS` in the bureau's time zone, or an
/// RFC 3339 timestamp with its own offset. Returns microseconds since the epoch, UTC.
pub fn parse_timestamp(s: &str, tz: Tz, spreadsheet: bool) -> Result<i64, Msg> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.timestamp_micros());
    }
    if spreadsheet {
        if let Ok(serial) = s.parse::<f64>() {
            if let Some(d) = excel_serial_date(serial) {
                let secs = ((serial - serial.floor()) * 86_400.0).round() as u32;
                let t = NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0)
                    .unwrap_or(NaiveTime::MIN);
                return local_to_utc(NaiveDateTime::new(d, t), tz, s);
            }
        }
    }
    // Split the date from the time at the first space or 'T' that follows the date.
    let split = s.find([' ', 'T', '\u{3000}']);
    let (date_part, time_part) = match split {
        Some(i) => (&s[..i], s[i..].trim_start_matches([' ', 'T', '\u{3000}'])),
        None => (s, ""),
    };
    let date = parse_date(date_part, false).map_err(|_| msg!("not_a_timestamp", value = s))?;
    let time = if time_part.is_empty() {
        NaiveTime::MIN
    } else {
        parse_time(time_part).ok_or_else(|| msg!("not_a_time", value = s))?
    };
    local_to_utc(NaiveDateTime::new(date, time), tz, s)
}

fn local_to_utc(ndt: NaiveDateTime, tz: Tz, s: &str) -> Result<i64, Msg> {
    tz.from_local_datetime(&ndt)
        .earliest()
        .map(|dt| dt.timestamp_micros())
        .ok_or_else(|| msg!("not_in_time_zone", value = s, tz = tz.name()))
}

/// A boolean: `true/false`, `1/0`, `Y/N`, `yes/no`, `是/否`.
pub fn parse_bool(s: &str) -> Result<bool, Msg> {
    let w = s.trim().to_lowercase();
    if TRUE_WORDS.contains(&w.as_str()) {
        Ok(true)
    } else if FALSE_WORDS.contains(&w.as_str()) {
        Ok(false)
    } else {
        Err(msg!("not_yes_no", value = s.trim()))
    }
}

/// Units a count or an amount may carry in its cell (`40人`, `0.5天`, `36.5℃`).
const UNITS: &[&str] = &["℃", "°C", "°c", "°", "度", "人", "名", "天", "次"];

/// The number of a cell without its unit.
fn without_unit(s: &str) -> &str {
    let mut t = s.trim();
    for u in UNITS {
        if let Some(x) = t.strip_suffix(u) {
            t = x.trim_end();
            break;
        }
    }
    t
}

/// An integer; `12.0` as Excel writes it is accepted, and a unit (`40人`).
pub fn parse_int(s: &str) -> Result<i64, Msg> {
    let t = without_unit(s);
    if let Ok(v) = t.parse::<i64>() {
        return Ok(v);
    }
    match t.parse::<f64>() {
        Ok(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(f as i64),
        _ => Err(msg!("not_whole_number", value = t)),
    }
}

/// A number; a trailing unit (`℃`, `°C`, `度`, `天`) is accepted.
pub fn parse_float(s: &str) -> Result<f64, Msg> {
    let t = without_unit(s);
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(msg!("not_a_number", value = s.trim())),
    }
}

/// A grade 1–12, also `一年级`…`九年级`, `初一`…`初三`, `高一`…`高三`, `3年级`.
pub fn parse_grade(s: &str) -> Result<i64, Msg> {
    let t = s.trim();
    let bad = || msg!("not_a_grade", value = t);
    if let Ok(v) = parse_int(t) {
        return if (1..=12).contains(&v) {
            Ok(v)
        } else {
            Err(bad())
        };
    }
    const DIGITS: [&str; 12] = [
        "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
    ];
    let digit = |w: &str| -> Option<i64> {
        DIGITS
            .iter()
            .position(|d| *d == w)
            .map(|i| i as i64 + 1)
            .or_else(|| w.parse::<i64>().ok())
    };
    if let Some(n) = t.strip_suffix("年级").and_then(digit) {
        if (1..=12).contains(&n) {
            return Ok(n);
        }
    }
    if let Some(n) = t.strip_prefix('初').and_then(digit) {
        if (1..=3).contains(&n) {
            return Ok(n + 6);
        }
    }
    if let Some(n) = t.strip_prefix('高').and_then(digit) {
        if (1..=3).contains(&n) {
            return Ok(n + 9);
        }
    }
    Err(bad())
}

/// A cohort written instead of a grade (`初2025级`, `高2024级`, `2025级`: the year of entry) as
/// the grade it is in on `day`: a school year starts on 1 September; junior cohorts start in
/// grade 7, senior in 10, others (primary) in 1.
pub fn parse_cohort(s: &str, day: NaiveDate) -> Option<i64> {
    let t = s.trim().strip_suffix('级')?;
    let (first, year) = match t.strip_prefix('初') {
        Some(y) => (7, y),
        None => match t.strip_prefix('高') {
            Some(y) => (10, y),
            None => (1, t),
        },
    };
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let entry: i64 = year.parse().ok()?;
    let school_year = i64::from(day.year()) - i64::from(day.month() < 9);
    let grade = school_year - entry + first;
    let last = match first {
        7 => 9,
        10 => 12,
        _ => 6,
    };
    (first..=last).contains(&grade).then_some(grade)
}

/// A grade, or a cohort ([`parse_cohort`]) on the row's day when one is known.
pub fn parse_grade_on(s: &str, day: Option<NaiveDate>) -> Result<i64, Msg> {
    match parse_grade(s) {
        Ok(g) => Ok(g),
        Err(e) => match day {
            Some(d) if s.trim().ends_with('级') => {
                parse_cohort(s, d).ok_or_else(|| msg!("not_a_cohort", value = s.trim(), date = d))
            }
            _ => Err(e),
        },
    }
}

/// A school code: 1–20 ASCII letters or digits.
pub fn check_school_code(s: &str) -> Result<(), Msg> {
    if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(msg!("not_a_school_code", value = s))
    }
}

/// The dates the bureau accepts: from its earliest date (`EDULAKE_EARLIEST_DATE`, default
/// 2000-01-01) to today in its time zone. A typo such as `0001-01-01` or `2999-01-01` is a bad
/// value, not a date to keep: every later read would span it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub earliest: NaiveDate,
    pub today: NaiveDate,
}

impl Window {
    /// The earliest date when the bureau sets none.
    pub const DEFAULT_EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
        Some(d) => d,
        None => panic!("2000-01-01 is a date"),
    };

    /// The window up to `today`, from `EDULAKE_EARLIEST_DATE` or 2000-01-01.
    pub fn up_to(today: NaiveDate) -> Result<Window, Msg> {
        let earliest = match std::env::var("EDULAKE_EARLIEST_DATE") {
            Ok(v) if !v.trim().is_empty() => {
                parse_date(&v, false).map_err(|e| msg!("earliest_date_setting", problem = e))?
            }
            _ => Window::DEFAULT_EARLIEST,
        };
        Ok(Window { earliest, today })
    }

    /// `Err` says why a date is outside the window.
    pub fn check(&self, day: NaiveDate) -> Result<(), Msg> {
        if day > self.today {
            Err(msg!("date_in_future", date = day, today = self.today))
        } else if day < self.earliest {
            Err(msg!("date_too_early", date = day, earliest = self.earliest))
        } else {
            Ok(())
        }
    }
}

/// Today's date in the bureau's time zone.
pub fn today(tz: Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// The year of a date.
pub fn year_of(d: NaiveDate) -> i32 {
    d.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohorts_are_grades_of_the_school_year() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(parse_cohort("初2025级", d("2026-11-16")), Some(8));
        assert_eq!(parse_cohort("初2025级", d("2026-06-30")), Some(7));
        assert_eq!(parse_cohort("高2024级", d("2026-11-16")), Some(12));
        assert_eq!(parse_cohort("2025级", d("2026-09-01")), Some(2));
        assert_eq!(parse_cohort("初2020级", d("2026-11-16")), None, "graduated");
        assert_eq!(parse_cohort("初25级", d("2026-11-16")), None);
        assert_eq!(parse_grade_on("初2025级", Some(d("2026-11-16"))), Ok(8));
        assert_eq!(parse_grade_on("初三", None), Ok(9));
        assert!(parse_grade_on("初2025级", None).is_err());
    }

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn every_date_form() {
        for s in [
            "2026-09-01",
            "2026/9/1",
            "20260901",
            "2026年9月1日",
            " 2026-9-1 ",
            "2026.09.01",
            // A timestamp where a date is asked for gives its (local) date.
            "2026-09-01 08:00",
            "2026/9/1 17:30:05",
        ] {
            assert_eq!(parse_date(s, false).unwrap(), d(2026, 9, 1), "{s}");
        }
        assert_eq!(parse_date("46266", true).unwrap(), d(2026, 9, 1));
        assert!(parse_date("46266", false).is_err());
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "yesterday",
            "",
            "26-9-1",
            "2026年9月",
            "-2026-01-01",
            "2026--01-01",
            "+2026-01-01",
            "2026-01-01x",
            "2026-1-1-1",
            "2026年9月1日日",
        ] {
            assert!(parse_date(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_local_and_stored_in_utc() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let want = d(2026, 9, 1)
            .and_hms_opt(0, 30, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        for s in [
            "2026-09-01 08:30",
            "2026/9/1 8:30:00",
            "2026年9月1日 08:30",
            "20260901 08:30",
            "2026-09-01T08:30:00",
        ] {
            assert_eq!(parse_timestamp(s, tz, false).unwrap(), want, "{s}");
        }
        assert_eq!(
            parse_timestamp("2026-09-01T00:30:00Z", tz, false).unwrap(),
            want
        );
        assert!(parse_timestamp("2026-09-01 25:00", tz, false).is_err());
    }

    #[test]
    fn booleans_grades_numbers() {
        for t in ["是", "Y", "yes", "TRUE", "1"] {
            assert!(parse_bool(t).unwrap());
        }
        for f in ["否", "n", "No", "false", "0"] {
            assert!(!parse_bool(f).unwrap());
        }
        assert!(parse_bool("maybe").is_err());
        let grades = [
            ("一年级", 1),
            ("六年级", 6),
            ("七年级", 7),
            ("初一", 7),
            ("初三", 9),
            ("九年级", 9),
            ("高一", 10),
            ("高三", 12),
            ("3", 3),
            ("12.0", 12),
            ("4年级", 4),
        ];
        for (s, g) in grades {
            assert_eq!(parse_grade(s).unwrap(), g, "{s}");
        }
        for bad in ["0", "13", "初四", "高四", "大一"] {
            assert!(parse_grade(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_float("37.5℃").unwrap(), 37.5);
        assert!(parse_float("NaN").is_err());
        assert!(check_school_code("13010001").is_ok());
        assert!(check_school_code("130-1").is_err());
        assert!(check_school_code("123456789012345678901").is_err());
    }
}
