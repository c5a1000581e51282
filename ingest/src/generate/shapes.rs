//! How schools send their attendance (REPORTING.md), and the two shapes besides rows: a
//! class's 晨午检日报 and a school's daily 缺勤登记.

use super::*;

/// How a school sends its attendance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// 晨午检日报: counts per class and session, zero reports included; no per-student
    /// health check-ins.
    ClassReport,
    /// 缺勤登记: only the students not present, one file a day for the whole school.
    Exceptions,
    /// A row per student and day.
    Rows,
    /// A platform's export (a check-in app, an attendance machine): a row per student and day,
    /// but keyed by the school's own 学号 (a local id), dates as `26-10-09 星期五`,
    /// temperatures with their unit; the school's roster carries both ids and links them.
    Platform,
}

impl Shape {
    pub(super) fn of(opts: &GenerateOptions, school: usize) -> Shape {
        match (opts.real_shapes, school % 5) {
            (false, _) => Shape::Rows,
            (true, _) if school % 10 == 5 => Shape::Platform,
            (true, 0..=2) => Shape::ClassReport,
            (true, 3) => Shape::Exceptions,
            (true, _) => Shape::Rows,
        }
    }
}

/// A school's 晨午检日报 for every school day: per class, a morning and a noon session with
/// 应到/实到/缺勤/因病缺课/事假/迟到 and symptom counts, zero reports included, as the form
/// platform exports it (Chinese headers, a title, the class as written). Some days the school
/// sends nothing, some classes forget a day.
pub(super) fn write_class_reports(
    out: &Path,
    opts: &GenerateOptions,
    rng: &mut StdRng,
    si: usize,
    s: &School,
    days: &[NaiveDate],
    g: &mut Generated,
) -> std::io::Result<()> {
    let header = [
        "date",
        "school_code",
        "class_code",
        "session",
        "expected",
        "present",
        "absent",
        "sick_absent",
        "personal_absent",
        "late",
        "fever",
        "cough",
        "diarrhea",
    ];
    let zh = [
        "日期",
        "学校代码",
        "班级",
        "检查时段",
        "应到人数",
        "实到人数",
        "缺勤人数",
        "因病缺课人数",
        "事假人数",
        "迟到人数",
        "发热",
        "咳嗽",
        "腹泻",
    ];
    let classes = classes_of(s);
    let first_day = days.len() - opts.health_days.unwrap_or(days.len()).min(days.len());
    let cluster_day = first_day + (days.len() - first_day) * 2 / 3;
    let st = Style {
        format: if opts.messy && si.is_multiple_of(2) {
            Format::Xlsx
        } else {
            Format::CsvBom
        },
        chinese: true,
        dates: DateStyle::Iso,
        title_rows: opts.messy,
        personal: false,
    };
    let mut rows = Vec::new();
    for (di, day) in days.iter().enumerate() {
        if si % 11 == 3 && di % 9 == 4 {
            continue; // a day the school sent nothing
        }
        for (ci, (grade, class_no, members)) in classes.iter().enumerate() {
            if si % 4 == 1 && (ci + di) % 17 == 0 {
                continue; // a class that forgot to report
            }
            let (mut absent, mut sick, mut personal, mut late) = (0, 0, 0, 0);
            for p in members {
                match attendance_status(rng, p, false) {
                    "absent" => absent += 1,
                    "sick_leave" => {
                        absent += 1;
                        sick += 1
                    }
                    "personal_leave" => {
                        absent += 1;
                        personal += 1
                    }
                    "late" => late += 1,
                    _ => {}
                }
            }
            let cluster = si % 7 == 2 && di == cluster_day && ci == 0;
            let fever = if cluster {
                4
            } else {
                (0..members.len())
                    .filter(|_| rng.random_bool(0.0015))
                    .count()
            };
            let cough = (0..members.len()).filter(|_| rng.random_bool(0.01)).count();
            let expected = members.len();
            let class = format!("{}({})班", grade_zh(*grade), class_no);
            for (session, left) in [("晨检", 0), ("午检", usize::from(rng.random_bool(0.1)))] {
                let absent = (absent + left).min(expected);
                rows.push(vec![
                    date_cell(*day, st),
                    Cell::Text(s.code.clone()),
                    Cell::Text(class.clone()),
                    Cell::Text(session.into()),
                    Cell::Text(expected.to_string()),
                    Cell::Text((expected - absent).to_string()),
                    Cell::Text(absent.to_string()),
                    Cell::Text(sick.min(absent).to_string()),
                    Cell::Text(personal.min(absent).to_string()),
                    Cell::Text(late.min(expected - absent).to_string()),
                    Cell::Text(fever.min(expected).to_string()),
                    Cell::Text(cough.min(expected).to_string()),
                    Cell::Text("0".into()),
                ]);
            }
        }
    }
    write_table(
        out,
        &format!("class_report/{}", s.code),
        "晨午检日报",
        &header,
        &zh,
        rows,
        st,
        g,
    )
}

/// A school's 缺勤登记: one file per school day naming only the students not present (an
/// empty list on a day everyone came), for the whole school, the day in the file's name (to
/// ingest with `--exceptions --school CODE`, which covers a day with nobody listed too).
pub(super) fn write_registers(
    out: &Path,
    opts: &GenerateOptions,
    rng: &mut StdRng,
    s: &School,
    days: &[NaiveDate],
    g: &mut Generated,
) -> std::io::Result<()> {
    let header = ["school_code", "student_id", "student_name", "status"];
    let zh = ["学校代码", "学籍号", "学生姓名", "缺勤类型"];
    let st = Style {
        format: Format::CsvBom,
        chinese: true,
        dates: DateStyle::Iso,
        title_rows: false,
        personal: opts.messy,
    };
    for day in days {
        let mut rows = Vec::new();
        for p in &s.students {
            let status = attendance_status(rng, p, true);
            if matches!(status, "缺勤" | "病假" | "事假" | "迟到") {
                rows.push(vec![
                    Cell::Text(s.code.clone()),
                    Cell::Text(p.id.clone()),
                    Cell::Text(p.name.clone()),
                    Cell::Text(status.into()),
                ]);
            }
        }
        write_table(
            out,
            &format!(
                "attendance_exceptions/{}/{}",
                s.code,
                day.format("%Y-%m-%d")
            ),
            "缺勤登记",
            &header,
            &zh,
            rows,
            st,
            g,
        )?;
    }
    Ok(())
}

/// A pupil's id in the school's own system (学号): unique only within the school, so two
/// platform schools have the same ones.
pub(super) fn local_id(pupil: usize) -> String {
    format!("XH{:05}", pupil + 1)
}

/// A pupil's id in the check-in app (学籍辅号): another local id, which the roster links too.
pub(super) fn aux_id(pupil: usize) -> String {
    format!("FZ{:06}", pupil * 7 + 3)
}

/// A parent's account on the school's messaging platform (用户ID): unique only within the
/// school.
pub(super) fn account(pupil: usize) -> String {
    format!("u{:06}", pupil + 1)
}

/// A date as platform exports write it: two-digit year and the weekday (`26-10-09 星期五`).
pub(super) fn platform_date(day: NaiveDate) -> String {
    const WEEKDAYS: [&str; 7] = [
        "星期一",
        "星期二",
        "星期三",
        "星期四",
        "星期五",
        "星期六",
        "星期日",
    ];
    format!(
        "{} {}",
        day.format("%y-%m-%d"),
        WEEKDAYS[day.weekday().num_days_from_monday() as usize]
    )
}

/// A school's classes (grade, class number, pupils), in order.
fn classes_of(s: &School) -> Vec<(u8, usize, Vec<&Student>)> {
    let mut classes: Vec<(u8, usize, Vec<&Student>)> = Vec::new();
    for p in &s.students {
        match classes
            .iter_mut()
            .find(|(g, n, _)| *g == p.grade && *n == p.class_no)
        {
            Some((_, _, members)) => members.push(p),
            None => classes.push((p.grade, p.class_no, vec![p])),
        }
    }
    classes.sort_by_key(|(g, n, _)| (*g, *n));
    classes
}

/// Whether a school's messaging platform gives read statistics per class instead of a receipt
/// per parent (some class-report schools).
pub(super) fn sends_read_counts(opts: &GenerateOptions, school: usize) -> bool {
    Shape::of(opts, school) == Shape::ClassReport && school.is_multiple_of(10)
}

/// A messaging platform's statistics page for each notice, exported: per class, how many
/// parents it was sent to and how many read it (阅读统计).
pub(super) fn write_read_counts(
    out: &Path,
    rng: &mut StdRng,
    s: &School,
    notices: &[&str],
    g: &mut Generated,
) -> std::io::Result<()> {
    let header = [
        "notice_id",
        "school_code",
        "class_code",
        "recipients",
        "read_count",
        "unread",
    ];
    let zh = [
        "通知编号",
        "学校代码",
        "班级",
        "应读人数",
        "已读人数",
        "未读人数",
    ];
    let classes = classes_of(s);
    let mut rows = Vec::new();
    for id in notices {
        for (grade, class_no, members) in &classes {
            let members = members.len();
            let read = (0..members).filter(|_| rng.random_bool(0.85)).count();
            rows.push(vec![
                Cell::Text(id.to_string()),
                Cell::Text(s.code.clone()),
                Cell::Text(format!("{}({})班", grade_zh(*grade), class_no)),
                Cell::Text(members.to_string()),
                Cell::Text(read.to_string()),
                Cell::Text((members - read).to_string()),
            ]);
        }
    }
    let st = Style {
        format: Format::CsvBom,
        chinese: true,
        dates: DateStyle::Iso,
        title_rows: false,
        personal: false,
    };
    write_table(
        out,
        &format!("notice_read_counts/{}", s.code),
        "阅读统计",
        &header,
        &zh,
        rows,
        st,
        g,
    )
}
