//! A synthetic district, written as the files schools would send: the demo's data, the
//! tests' inputs and the benchmarks' load. `messy` mixes formats, encodings, header
//! languages, date forms, personal and unknown columns, bad rows and one file sent to the
//! wrong dataset, as real extracts do.

use std::path::{Path, PathBuf};

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

mod district;
pub use district::boundaries_geojson;

/// The file of the districts' boundaries a generated district comes with.
pub const BOUNDARIES_FILE_NAME: &str = "boundaries.geojson";
mod files;
mod shapes;
use district::{attendance_status, grade_zh, make_schools, school_days, School, Student};
use files::{date_cell, fmt_date, write_table, Cell, DateStyle, Format, Style};
use shapes::{sends_read_counts, write_class_reports, write_read_counts, write_registers, Shape};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub schools: usize,
    /// Students in the whole district.
    pub students: usize,
    /// School days (weekdays) ending at `end`.
    pub days: usize,
    pub seed: u64,
    pub messy: bool,
    /// The last school day; default the last weekday before today.
    pub end: NaiveDate,
    /// Datasets to write (default all).
    pub datasets: Vec<String>,
    /// Health check-ins only on the last this many school days (default: every day).
    pub health_days: Option<usize>,
    /// Keep every personal value written (names, phones, raw ids) in [`Generated::personal`],
    /// so a test can prove none of them reaches the lake.
    pub record_personal: bool,
    /// Schools report attendance the way real ones do (REPORTING.md): three in five send class
    /// 晨午检 reports (`class_report/`), one in five exception registers
    /// (`attendance_exceptions/<school>/<date>.csv`, to ingest with `--exceptions --school`),
    /// the rest per-student rows. Off: every school sends per-student rows and check-ins.
    pub real_shapes: bool,
}

impl GenerateOptions {
    pub fn new(end: NaiveDate) -> Self {
        GenerateOptions {
            schools: 40,
            students: 12_000,
            days: 60,
            seed: 1,
            messy: false,
            end,
            datasets: edulake_schemas::names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            record_personal: false,
            health_days: None,
            real_shapes: false,
        }
    }

    fn wants(&self, d: &str) -> bool {
        self.datasets.iter().any(|x| x == d)
    }
}

/// The last weekday strictly before `today`.
pub fn last_school_day_before(today: NaiveDate) -> NaiveDate {
    let mut d = today - Duration::days(1);
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d -= Duration::days(1);
    }
    d
}

/// What was written.
#[derive(Debug, Default, Clone)]
pub struct Generated {
    pub files: Vec<PathBuf>,
    pub rows: u64,
    pub bad_rows: u64,
    /// With `record_personal`: the names, phone numbers and raw identifiers written.
    pub personal: Vec<String>,
}

/// Writes the district into `out`.
pub fn generate(out: &Path, opts: &GenerateOptions) -> std::io::Result<Generated> {
    std::fs::create_dir_all(out)?;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let days = school_days(opts.end, opts.days.max(1));
    let schools = make_schools(&mut rng, opts, days[0]);
    // The districts' boundaries, for the cockpit's map (not an extract: no dataset reads it).
    std::fs::write(
        out.join(BOUNDARIES_FILE_NAME),
        district::boundaries_geojson(),
    )?;
    // How a class is written: with real shapes, as schools write it (`三年级(1)班` in Chinese
    // files, `3-1` otherwise: both the class 3-1); else the code as it is (`301`).
    let class_name = |p: &Student, chinese: bool| -> String {
        match (opts.real_shapes, chinese) {
            (true, true) => format!("{}({})班", grade_zh(p.grade), p.class_no),
            (true, false) => format!("{}-{}", p.grade, p.class_no),
            (false, _) => p.class.clone(),
        }
    };
    let mut g = Generated::default();
    if opts.record_personal {
        for s in &schools {
            for p in &s.students {
                g.personal
                    .extend([p.id.clone(), p.name.clone(), p.parent_phone.clone()]);
            }
        }
        for (si, _) in schools.iter().enumerate() {
            if Shape::of(opts, si) == Shape::Platform {
                g.personal
                    .extend((0..opts.students.max(1)).map(shapes::local_id));
                g.personal
                    .extend((0..opts.students.max(1)).map(shapes::aux_id));
                g.personal
                    .extend((0..opts.students.max(1)).map(shapes::account));
            }
        }
        g.personal.sort();
        g.personal.dedup();
    }
    let style_for = |rng: &mut StdRng| -> Style {
        if !opts.messy {
            return Style {
                format: Format::Csv,
                chinese: false,
                dates: DateStyle::Iso,
                title_rows: false,
                personal: false,
            };
        }
        let format = [
            Format::Csv,
            Format::CsvBom,
            Format::CsvGbk,
            Format::Xlsx,
            Format::Utf16Tsv,
            Format::JsonLines,
            Format::CsvGz,
        ][rng.random_range(0..7)];
        let dates = [
            DateStyle::Iso,
            DateStyle::Slash,
            DateStyle::Compact,
            DateStyle::Chinese,
        ][rng.random_range(0..4)];
        Style {
            format,
            chinese: rng.random_bool(0.7),
            dates,
            title_rows: format == Format::Xlsx,
            personal: true,
        }
    };

    if opts.wants("schools") {
        let header = [
            "school_code",
            "school_name",
            "district",
            "school_type",
            "latitude",
            "longitude",
            "teacher_count",
        ];
        let zh = [
            "学校代码",
            "学校名称",
            "区县",
            "学段",
            "纬度",
            "经度",
            "专任教师数",
        ];
        let rows: Vec<Vec<Cell>> = schools
            .iter()
            .map(|s| {
                vec![
                    Cell::Text(s.code.clone()),
                    Cell::Text(s.name.clone()),
                    Cell::Text(s.district.to_string()),
                    Cell::Text(s.kind.to_string()),
                    Cell::Text(format!("{:.5}", s.lat)),
                    Cell::Text(format!("{:.5}", s.lon)),
                    Cell::Text(s.teachers.to_string()),
                ]
            })
            .collect();
        let st = Style {
            chinese: opts.messy,
            ..style_for(&mut rng)
        };
        let st = Style {
            format: if opts.messy {
                Format::CsvGbk
            } else {
                Format::Csv
            },
            personal: false,
            ..st
        };
        write_table(out, "schools", "学校名录", &header, &zh, rows, st, &mut g)?;
    }

    let mid = days[days.len() / 2];
    for (si, s) in schools.iter().enumerate() {
        if opts.wants("enrolment") {
            for (snapshot, as_of) in [(0, days[0]), (1, mid)] {
                if snapshot == 1 && days.len() < 10 {
                    continue;
                }
                let st = style_for(&mut rng);
                let mut header = vec![
                    "student_id",
                    "school_code",
                    "grade",
                    "class_code",
                    "gender",
                    "birth_date",
                    "status",
                    "as_of_date",
                ];
                let mut zh = vec![
                    "学籍号",
                    "学校代码",
                    "年级",
                    "班级",
                    "性别",
                    "出生日期",
                    "学籍状态",
                    "快照日期",
                ];
                let platform = Shape::of(opts, si) == Shape::Platform;
                if platform {
                    // The 学籍 export of a school on a platform: its own 学号 and the check-in
                    // app's 学籍辅号 beside the 学籍号 (the crosswalk).
                    header.insert(1, "local_id");
                    zh.insert(1, "学号");
                    header.insert(2, "学籍辅号");
                    zh.insert(2, "学籍辅号");
                }
                if st.personal {
                    header.push("学生姓名");
                    zh.push("学生姓名");
                    header.push("联系电话");
                    zh.push("联系电话");
                }
                let mut rows = Vec::with_capacity(s.students.len());
                for (i, p) in s.students.iter().enumerate() {
                    let status = if snapshot == 1 && i % 97 == 5 {
                        "transferred_out"
                    } else if opts.real_shapes && snapshot == 1 && i % 131 == 7 {
                        "suspended"
                    } else {
                        "enrolled"
                    };
                    let grade = if st.chinese {
                        grade_zh(p.grade)
                    } else {
                        p.grade.to_string()
                    };
                    let gender = if st.chinese {
                        if p.gender == 'M' { "男" } else { "女" }.to_string()
                    } else {
                        p.gender.to_string()
                    };
                    let status = if st.chinese {
                        match status {
                            "enrolled" => "在籍",
                            "suspended" => "休学",
                            _ => "转出",
                        }
                    } else {
                        status
                    };
                    let mut row = vec![
                        Cell::Text(p.id.clone()),
                        Cell::Text(s.code.clone()),
                        Cell::Text(grade),
                        Cell::Text(class_name(p, st.chinese)),
                        Cell::Text(gender),
                        date_cell(p.birth, st),
                        Cell::Text(status.to_string()),
                        date_cell(as_of, st),
                    ];
                    if platform {
                        row.insert(1, Cell::Text(shapes::local_id(i)));
                        row.insert(2, Cell::Text(shapes::aux_id(i)));
                    }
                    if st.personal {
                        row.push(Cell::Text(p.name.clone()));
                        row.push(Cell::Text(p.parent_phone.clone()));
                    }
                    rows.push(row);
                }
                if opts.messy && si % 5 == 1 && snapshot == 0 {
                    g.bad_rows += 1;
                    rows.push(
                        vec![
                            Cell::Text(format!("G{}X", s.code)),
                            Cell::Text(s.code.clone()),
                            Cell::Text("十三年级".into()),
                            Cell::Text("1班".into()),
                            Cell::Text("男".into()),
                            Cell::Text("2015-01-01".into()),
                            Cell::Text("在籍".into()),
                            date_cell(as_of, st),
                        ]
                        .into_iter()
                        .chain(
                            st.personal
                                .then(|| {
                                    vec![
                                        Cell::Text("某某".into()),
                                        Cell::Text("13900000000".into()),
                                    ]
                                })
                                .into_iter()
                                .flatten(),
                        )
                        .collect(),
                    );
                }
                let file = format!("enrolment/{}_{}", s.code, as_of.format("%Y%m%d"));
                write_table(out, &file, "学籍名册", &header, &zh, rows, st, &mut g)?;
            }
            if opts.messy && si == 0 {
                // A roster sent to the attendance folder by mistake: rejected whole.
                let header = ["student_id", "grade", "class_code", "gender"];
                let zh = ["学籍号", "年级", "班级", "性别"];
                let rows = s.students.iter().take(5).map(|p| {
                    vec![
                        Cell::Text(p.id.clone()),
                        Cell::Text(grade_zh(p.grade)),
                        Cell::Text(p.class.clone()),
                        Cell::Text("男".into()),
                    ]
                });
                let st = Style {
                    format: Format::Csv,
                    chinese: true,
                    dates: DateStyle::Iso,
                    title_rows: false,
                    personal: false,
                };
                write_table(
                    out,
                    &format!("attendance/{}_花名册", s.code),
                    "学籍名册",
                    &header,
                    &zh,
                    rows.collect(),
                    st,
                    &mut g,
                )?;
            }
        }
        let shape = Shape::of(opts, si);
        if opts.wants("class_report") && shape == Shape::ClassReport {
            write_class_reports(out, opts, &mut rng, si, s, &days, &mut g)?;
        }
        if opts.wants("attendance") && shape == Shape::Exceptions {
            write_registers(out, opts, &mut rng, s, &days, &mut g)?;
        }
        let platform = shape == Shape::Platform;
        // A platform writes Chinese headers and values, its own 学号 and dates.
        let platform_style = |st: Style| Style {
            chinese: st.chinese || platform,
            ..st
        };
        if opts.wants("attendance") && matches!(shape, Shape::Rows | Shape::Platform) {
            let st = platform_style(style_for(&mut rng));
            let header = ["date", "school_code", "class_code", "student_id", "status"];
            let mut zh = ["日期", "学校代码", "班级", "学籍号", "考勤状态"];
            if platform {
                zh[3] = "学号";
            }
            let mut rows = Vec::with_capacity(days.len() * s.students.len());
            for (di, day) in days.iter().enumerate() {
                // Some schools forget to report some days.
                if si % 11 == 3 && di % 9 == 4 {
                    continue;
                }
                for (pi, p) in s.students.iter().enumerate() {
                    let status = attendance_status(&mut rng, p, st.chinese);
                    let mut row = vec![
                        date_cell(*day, st),
                        Cell::Text(s.code.clone()),
                        Cell::Text(class_name(p, st.chinese)),
                        Cell::Text(p.id.clone()),
                        Cell::Text(status.to_string()),
                    ];
                    if platform {
                        row[0] = Cell::Text(shapes::platform_date(*day));
                        row[3] = Cell::Text(shapes::local_id(pi));
                        if status == "出勤" {
                            row[4] = Cell::Text("正常".into());
                        }
                    }
                    if opts.messy && (pi * 31 + di * 7 + si) % 997 == 0 {
                        g.bad_rows += 1;
                        match di % 3 {
                            0 => row[4] = Cell::Text("请假?".into()),
                            1 => row[0] = Cell::Text("2026-13-45".into()),
                            _ => row[3] = Cell::Text(String::new()),
                        }
                    }
                    rows.push(row);
                }
            }
            write_table(
                out,
                &format!("attendance/{}", s.code),
                "考勤",
                &header,
                &zh,
                rows,
                st,
                &mut g,
            )?;
        }
        if opts.wants("health_report") && shape != Shape::ClassReport {
            let st = platform_style(style_for(&mut rng));
            let header = [
                "date",
                "school_code",
                "class_code",
                "student_id",
                "temperature",
                "symptoms",
                "risk_contact",
                "reported_at",
            ];
            let mut zh = [
                "日期",
                "学校代码",
                "班级",
                "学籍号",
                "体温",
                "症状",
                "是否接触风险人员",
                "填报时间",
            ];
            if platform {
                zh[3] = "学籍辅号";
            }
            let mut rows = Vec::new();
            let first_day = days.len() - opts.health_days.unwrap_or(days.len()).min(days.len());
            let cluster_day = first_day + (days.len() - first_day) * 2 / 3;
            for (di, day) in days.iter().enumerate().skip(first_day) {
                if si % 13 == 7 && di % 5 == 0 {
                    continue; // a school that sent nothing that day
                }
                for (pi, p) in s.students.iter().enumerate() {
                    if rng.random_bool(0.04) {
                        continue; // a parent who did not check in
                    }
                    // A fever cluster in the first class of every seventh school.
                    let cluster = si % 7 == 2 && di == cluster_day && pi < 4;
                    let fever = cluster || rng.random_bool(0.0015);
                    let temp = if fever {
                        rng.random_range(37.4..39.2)
                    } else {
                        rng.random_range(36.0..37.1)
                    };
                    let symptoms = if fever {
                        if st.chinese {
                            "发热、咳嗽"
                        } else {
                            "fever,cough"
                        }
                    } else if rng.random_bool(0.01) {
                        if st.chinese {
                            "咳嗽"
                        } else {
                            "cough"
                        }
                    } else if st.chinese {
                        "无"
                    } else {
                        "none"
                    };
                    let risk = rng.random_bool(0.001);
                    let at = day
                        .and_hms_opt(7, rng.random_range(0..60), rng.random_range(0..60))
                        .expect("valid time");
                    let mut row = vec![
                        date_cell(*day, st),
                        Cell::Text(s.code.clone()),
                        Cell::Text(class_name(p, st.chinese)),
                        Cell::Text(p.id.clone()),
                        Cell::Text(format!("{temp:.1}")),
                        Cell::Text(symptoms.to_string()),
                        Cell::Text(
                            if st.chinese {
                                if risk {
                                    "是"
                                } else {
                                    "否"
                                }
                            } else if risk {
                                "true"
                            } else {
                                "false"
                            }
                            .into(),
                        ),
                        Cell::Text(format!(
                            "{} {}",
                            fmt_date(*day, st.dates),
                            at.format("%H:%M:%S")
                        )),
                    ];
                    if platform {
                        // The check-in app's export: its own id (学籍辅号, which only the
                        // roster links), the temperature's unit.
                        row[3] = Cell::Text(shapes::aux_id(pi));
                        row[4] = Cell::Text(format!("{temp:.1}℃"));
                    }
                    if opts.messy && (pi * 13 + di + si) % 1499 == 0 {
                        g.bad_rows += 1;
                        row[4] = Cell::Text("99.5".into());
                    }
                    rows.push(row);
                }
            }
            write_table(
                out,
                &format!("health_report/{}", s.code),
                "健康打卡",
                &header,
                &zh,
                rows,
                st,
                &mut g,
            )?;
        }
    }

    // Notices: the bureau publishes one every five school days.
    let notices: Vec<(String, String, &str, NaiveDate)> = days
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 5 == 0)
        .map(|(i, d)| {
            let cats = [
                ("safety", "安全"),
                ("epidemic", "防疫"),
                ("holiday", "放假"),
                ("exam", "考试"),
                ("other", "其他"),
            ];
            let (c, zh) = cats[i / 5 % cats.len()];
            (
                format!("N{}{:03}", d.format("%Y%m%d"), i),
                format!("关于做好{}工作的通知", zh),
                c,
                *d,
            )
        })
        .collect();
    if opts.wants("notices") {
        let header = ["notice_id", "issuer", "title", "category", "published_at"];
        let zh = ["通知编号", "发布单位", "标题", "类别", "发布时间"];
        let rows = notices
            .iter()
            .map(|(id, title, cat, d)| {
                vec![
                    Cell::Text(id.clone()),
                    Cell::Text(if opts.messy { "教育局" } else { "bureau" }.into()),
                    Cell::Text(title.clone()),
                    Cell::Text(cat.to_string()),
                    Cell::Text(format!("{} 09:00", d.format("%Y-%m-%d"))),
                ]
            })
            .collect();
        let st = Style {
            format: Format::Csv,
            chinese: opts.messy,
            dates: DateStyle::Iso,
            title_rows: false,
            personal: false,
        };
        write_table(out, "notices", "通知", &header, &zh, rows, st, &mut g)?;
    }
    if opts.wants("notice_read_counts") {
        let ids: Vec<&str> = notices.iter().map(|(id, ..)| id.as_str()).collect();
        for (si, s) in schools.iter().enumerate() {
            if sends_read_counts(opts, si) {
                write_read_counts(out, &mut rng, s, &ids, &mut g)?;
            }
        }
    }
    if opts.wants("notice_reads") {
        for (si, s) in schools.iter().enumerate() {
            if sends_read_counts(opts, si) && opts.wants("notice_read_counts") {
                continue;
            }
            let st = style_for(&mut rng);
            // A messaging platform's read-status export says when a parent read, not when
            // the notice reached them (taken as its publication).
            // It names parents by their account on the platform (用户ID, unique only within
            // the school: two platform schools have the same ones), not their phone.
            let undelivered = Shape::of(opts, si) == Shape::Platform;
            let header = [
                "notice_id",
                "school_code",
                if undelivered {
                    "local_id"
                } else {
                    "recipient_id"
                },
                "recipient_role",
                "delivered_at",
                "read_at",
            ];
            let zh = [
                "通知编号",
                "学校代码",
                if undelivered {
                    "用户ID"
                } else {
                    "家长手机号"
                },
                "接收人类型",
                "送达时间",
                "阅读时间",
            ];
            let mut rows = Vec::new();
            for (id, _, _, d) in &notices {
                for (pi, p) in s.students.iter().enumerate() {
                    let delivered = d
                        .and_hms_opt(9, rng.random_range(0..10), 0)
                        .expect("valid time");
                    let read = if rng.random_bool(0.85) {
                        let hours: f64 = -6.0 * (1.0 - rng.random::<f64>()).ln();
                        Some(delivered + Duration::seconds((hours * 3600.0) as i64))
                    } else {
                        None
                    };
                    rows.push(vec![
                        Cell::Text(id.clone()),
                        Cell::Text(s.code.clone()),
                        Cell::Text(if undelivered {
                            shapes::account(pi)
                        } else {
                            p.parent_phone.clone()
                        }),
                        Cell::Text(if st.chinese { "家长" } else { "parent" }.into()),
                        Cell::Text(if undelivered {
                            String::new()
                        } else {
                            delivered.format("%Y-%m-%d %H:%M:%S").to_string()
                        }),
                        Cell::Text(
                            read.map(|r| r.format("%Y-%m-%d %H:%M:%S").to_string())
                                .unwrap_or_default(),
                        ),
                    ]);
                }
            }
            write_table(
                out,
                &format!("notice_reads/{}", s.code),
                "阅读回执",
                &header,
                &zh,
                rows,
                st,
                &mut g,
            )?;
        }
    }
    Ok(g)
}
