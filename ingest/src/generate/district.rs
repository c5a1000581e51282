//! The district itself: its schools (district, kind, place, teachers) and their students
//! (names, classes, how often each is absent), and the school days.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::rngs::StdRng;
use rand::Rng;

use super::GenerateOptions;

pub(super) const DISTRICTS: &[&str] = &[
    "长安区",
    "桥西区",
    "新华区",
    "裕华区",
    "井陉矿区",
    "藁城区",
    "鹿泉区",
    "栾城区",
];
/// Where the synthetic districts lie: a grid of cells, four across, over the bureau's area
/// (south-west corner, and a cell's size in degrees).
const GRID: (f64, f64, f64, f64) = (37.79, 114.16, 0.25, 0.175);
const ACROSS: usize = 4;

/// The cell of district `i`: (south, west, north, east).
fn cell(i: usize) -> (f64, f64, f64, f64) {
    let (lat0, lon0, h, w) = GRID;
    let (row, col) = ((i / ACROSS) as f64, (i % ACROSS) as f64);
    (
        lat0 + row * h,
        lon0 + col * w,
        lat0 + (row + 1.0) * h,
        lon0 + (col + 1.0) * w,
    )
}

/// The synthetic districts' boundaries as GeoJSON (`edulake boundaries import` reads it): each
/// district its cell of the grid its schools lie in.
pub fn boundaries_geojson() -> String {
    let features: Vec<serde_json::Value> = DISTRICTS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (s, w, n, e) = cell(i);
            serde_json::json!({
                "type": "Feature",
                "properties": { "name": name },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]
                }
            })
        })
        .collect();
    serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
}

pub(super) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
pub(super) const GIVEN: &[&str] = &[
    "浩", "欣", "子涵", "宇轩", "梓萱", "一诺", "思远", "雨桐", "俊杰", "佳怡",
];

pub(super) struct School {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) district: &'static str,
    pub(super) kind: &'static str,
    pub(super) lat: f64,
    pub(super) lon: f64,
    pub(super) teachers: u32,
    pub(super) students: Vec<Student>,
}

pub(super) struct Student {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) gender: char,
    pub(super) grade: u8,
    pub(super) class: String,
    pub(super) class_no: usize,
    pub(super) birth: NaiveDate,
    pub(super) parent_phone: String,
    /// Probability of an absence on a day.
    pub(super) absence: f64,
}

pub(super) fn grade_zh(g: u8) -> String {
    const ZH: [&str; 12] = [
        "一年级",
        "二年级",
        "三年级",
        "四年级",
        "五年级",
        "六年级",
        "初一",
        "初二",
        "初三",
        "高一",
        "高二",
        "高三",
    ];
    ZH[(g.clamp(1, 12) - 1) as usize].to_string()
}

pub(super) fn attendance_status(rng: &mut StdRng, p: &Student, chinese: bool) -> &'static str {
    let x: f64 = rng.random();
    let (en, zh) = if x < p.absence {
        // Most absences are unexcused or personal; sick leave is the rarer kind, so that a
        // class with three students ill on one day stands out as it does in real schools.
        let y: f64 = rng.random();
        if y < 0.45 {
            ("absent", "缺勤")
        } else if y < 0.85 {
            ("personal_leave", "事假")
        } else {
            ("sick_leave", "病假")
        }
    } else if x < p.absence + 0.02 {
        ("late", "迟到")
    } else if x < p.absence + 0.025 {
        ("early_leave", "早退")
    } else {
        ("present", "出勤")
    };
    if chinese {
        zh
    } else {
        en
    }
}

/// The last `n` weekdays ending at `end`, oldest first.
pub(super) fn school_days(end: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(n);
    let mut d = end;
    while out.len() < n {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(d);
        }
        d -= Duration::days(1);
    }
    out.reverse();
    out
}

pub(super) fn make_schools(
    rng: &mut StdRng,
    opts: &GenerateOptions,
    first_day: NaiveDate,
) -> Vec<School> {
    let n = opts.schools.max(1);
    let per_school = (opts.students / n).max(1);
    (0..n)
        .map(|i| {
            let district = DISTRICTS[i % DISTRICTS.len()];
            let (kind, kind_zh, grades) = match i % 10 {
                0..=5 => ("primary", "小学", 1..=6),
                6 | 7 => ("junior", "中学", 7..=9),
                8 => ("senior", "高级中学", 10..=12),
                _ => ("nine_year", "学校", 1..=9),
            };
            let code = format!("1301{:06}", i + 1);
            let name = format!(
                "石家庄市{}第{}{}",
                district,
                i / DISTRICTS.len() + 1,
                kind_zh
            );
            let grade_count = (*grades.end() - *grades.start() + 1) as usize;
            let students = (0..per_school)
                .map(|k| {
                    let grade = grades.start() + (k % grade_count) as u8;
                    let class_no = (k / grade_count) / 45 + 1;
                    let age = 5 + grade as i32;
                    let birth = NaiveDate::from_ymd_opt(
                        first_day.year() - age,
                        1 + (k % 12) as u32,
                        1 + (k % 28) as u32,
                    )
                    .expect("valid birth date");
                    let chronic = rng.random_bool(0.03);
                    Student {
                        id: format!("G{:04}{:06}{:08}", 1301, i + 1, k + 1),
                        name: format!(
                            "{}{}",
                            SURNAMES[rng.random_range(0..SURNAMES.len())],
                            GIVEN[rng.random_range(0..GIVEN.len())]
                        ),
                        gender: if rng.random_bool(0.49) { 'F' } else { 'M' },
                        grade,
                        class: format!("{}{:02}", grade, class_no),
                        class_no,
                        birth,
                        parent_phone: format!(
                            "13{}{:08}",
                            rng.random_range(0..10),
                            rng.random_range(0..100_000_000u32)
                        ),
                        absence: if chronic { 0.15 } else { 0.02 },
                    }
                })
                .collect();
            School {
                code,
                name,
                district,
                kind,
                // Somewhere in its district's cell, away from its edges.
                lat: {
                    let (s, _, n, _) = cell(i % DISTRICTS.len());
                    s + (n - s) * rng.random_range(0.05..0.95)
                },
                lon: {
                    let (_, w, _, e) = cell(i % DISTRICTS.len());
                    w + (e - w) * rng.random_range(0.05..0.95)
                },
                teachers: (per_school as u32 / 14).max(1),
                students,
            }
        })
        .collect()
}
