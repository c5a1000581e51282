//! Differencing attacks on small cells across exports (issue "Who may see what"): a reader
//! outside the bureau who puts two downloads, pages or views side by side must not get a
//! hidden cell back by subtracting shown cells from a shown total, whether the two differ in
//! their date ranges, in the margin they show (a grade's total beside its classes) or in the
//! indicator (enrolment by gender beside the female share).

use std::collections::HashMap;

use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use edulake_ingest::Upload;
use edulake_transform::access::{Principal, Role};
use edulake_transform::bounded::Limits;
use edulake_transform::indicators::{Grain, Level, Request};
use edulake_transform::reads::Scope;
use edulake_transform::QueryLayer;

use crate::common::*;

/// Rows by column name; an empty string where the cell is empty.
type Table = Vec<HashMap<String, String>>;

fn table(batches: &[RecordBatch]) -> Table {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let mut row = HashMap::new();
            for (i, f) in b.schema().fields().iter().enumerate() {
                let c = b.column(i);
                let text = if c.is_null(r) {
                    String::new()
                } else {
                    arrow::util::display::array_value_to_string(c, r).unwrap()
                };
                row.insert(f.name().clone(), text);
            }
            out.push(row);
        }
    }
    out
}

struct Ask<'a> {
    indicator: &'a str,
    level: Level,
    grain: Grain,
    by: Option<&'a str>,
    range: Option<(&'a str, &'a str)>,
}

fn ask(indicator: &str, level: Level) -> Ask<'_> {
    Ask {
        indicator,
        level,
        grain: Grain::Total,
        by: None,
        range: None,
    }
}

async fn export(layer: &QueryLayer, who: &Principal, a: Ask<'_>) -> Table {
    let mut r = Request::new(a.indicator);
    r.level = a.level;
    r.grain = a.grain;
    r.by = a.by.map(String::from);
    if let Some((from, to)) = a.range {
        r.from = Some(day(from));
        r.to = Some(day(to));
    }
    who.asks(&mut r);
    let (_, batches) = layer.export(&r).await.unwrap();
    table(&batches)
}

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn hidden(row: &HashMap<String, String>) -> bool {
    row["suppressed"] == "true"
}

/// What a count or a rate's denominator shows, as a number (None where hidden).
fn measure(row: &HashMap<String, String>) -> Option<i64> {
    let text = if row["denominator"].is_empty() && row["numerator"].is_empty() {
        &row["value"]
    } else {
        &row["denominator"]
    };
    text.parse().ok()
}

/// The attack on one published sum: the sum, shown, less its shown parts, must not be a
/// single hidden part. Where nothing is hidden the parts add up to the sum (so the check
/// looks at the right parts).
fn assert_protected(what: &str, sum: &HashMap<String, String>, parts: &[&HashMap<String, String>]) {
    assert!(!parts.is_empty(), "{what}: no parts");
    if hidden(sum) {
        return;
    }
    let lone = parts.iter().filter(|p| hidden(p)).count();
    assert_ne!(
        lone, 1,
        "{what}: {sum:?} less its shown parts gives the one hidden part back: {parts:?}"
    );
    if lone == 0 {
        let total: i64 = parts.iter().filter_map(|p| measure(p)).sum();
        assert_eq!(Some(total), measure(sum), "{what}: parts {parts:?}");
    }
}

/// [`assert_protected`] for each sum, against the parts that belong to it.
fn assert_each_protected(
    what: &str,
    sums: &Table,
    parts: &Table,
    belongs: impl Fn(&HashMap<String, String>, &HashMap<String, String>) -> bool,
) {
    for sum in sums {
        let of: Vec<_> = parts.iter().filter(|p| belongs(sum, p)).collect();
        assert_protected(&format!("{what} ({sum:?})"), sum, &of);
    }
}

/// One class of one school: 20 a day over two school weeks (Mon 2026-09-07 .. Fri 09-18),
/// but 12 on Tue 09-08 and 5 on Thu 09-17 (a small cell).
async fn one_class_over_two_weeks() -> Fixture {
    let f = Fixture::new();
    let p = f.write(
        "schools.csv",
        "school_code,school_name,district,school_type\nS1,一中,D1,初中\n",
    );
    f.ingest("schools", Upload::default(), &[p]).await;
    let mut rows = String::from("date,school_code,class_code,student_id,status\n");
    for d in [7, 8, 9, 10, 11, 14, 15, 16, 17, 18] {
        let n = match d {
            8 => 12,
            17 => 5,
            _ => 20,
        };
        for i in 0..n {
            rows.push_str(&format!("2026-09-{d:02},S1,7-1,G{i},present\n"));
        }
    }
    let p = f.write("attendance.csv", rows);
    f.ingest("attendance", Upload::default(), &[p]).await;
    f
}

#[tokio::test]
async fn two_date_ranges_never_differ_by_a_hidden_day() {
    let f = one_class_over_two_weeks().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let clerk = Principal::new(Role::SchoolClerk, Scope::School("S1".into())).unwrap();
    let days: Vec<String> = (7..=18).map(|d| format!("2026-09-{d:02}")).collect();
    let mut by_day = ask("attendance_rate", Level::Class);
    by_day.grain = Grain::Day;
    by_day.range = Some((&days[0], &days[11]));
    let day_rows = export(&layer, &clerk, by_day).await;
    let day_hidden: HashMap<String, bool> = day_rows
        .iter()
        .map(|r| (r["period_start"].clone(), hidden(r)))
        .collect();
    assert_eq!(day_hidden.get("2026-09-17"), Some(&true), "{day_rows:?}");
    assert_eq!(day_hidden.get("2026-09-07"), Some(&false), "{day_rows:?}");
    // Every range of those days, as a total: the class's row, shown or not.
    let mut totals: Vec<(usize, usize, i64)> = Vec::new();
    for a in 0..days.len() {
        for b in a..days.len() {
            let mut total = ask("attendance_rate", Level::Class);
            total.range = Some((&days[a], &days[b]));
            let got = export(&layer, &clerk, total).await;
            if let Some(row) = got.first().filter(|r| !hidden(r)) {
                totals.push((a, b, measure(row).unwrap()));
            }
        }
    }
    assert!(totals.len() > 10, "{totals:?}");
    // The attack: a shown total less a shown total within it, less the shown days between,
    // is one hidden day.
    for &(a1, b1, _) in &totals {
        for &(a2, b2, _) in &totals {
            if (a1, b1) == (a2, b2) || a2 < a1 || b2 > b1 {
                continue;
            }
            let between = (a1..a2).chain(b2 + 1..=b1);
            let lone = between
                .filter(|&i| day_hidden.get(&days[i]) == Some(&true))
                .count();
            assert_ne!(
                lone, 1,
                "{}..{} less {}..{} gives one hidden day",
                days[a1], days[b1], days[a2], days[b2]
            );
        }
    }
    // The attack the review found: Mon–Thu less Mon–Wed of the second week.
    let mut four = ask("attendance_rate", Level::Class);
    four.range = Some(("2026-09-14", "2026-09-17"));
    assert!(hidden(&export(&layer, &clerk, four).await[0]));
    // A week holding the hidden day is hidden whole; the month is shown, and it less its
    // shown days leaves two days together.
    let mut weeks = ask("attendance_rate", Level::Class);
    weeks.grain = Grain::Week;
    weeks.range = Some(("2026-09-07", "2026-09-20"));
    let weeks = export(&layer, &clerk, weeks).await;
    let week2 = weeks
        .iter()
        .find(|r| r["period_start"] == "2026-09-14")
        .unwrap();
    assert!(hidden(week2), "{weeks:?}");
    let mut month = ask("attendance_rate", Level::Class);
    month.grain = Grain::Month;
    let month = export(&layer, &clerk, month).await;
    assert_eq!(month.len(), 1, "{month:?}");
    let parts: Vec<&HashMap<String, String>> = day_rows.iter().collect();
    assert_protected("September, day by day", &month[0], &parts);
    assert_eq!(measure(&month[0]), Some(8 * 20 + 12 + 5));
    // The bureau sees every day.
    let admin = Principal::new(Role::BureauAdmin, Scope::Bureau).unwrap();
    let mut all = ask("attendance_rate", Level::Class);
    all.grain = Grain::Day;
    assert!(export(&layer, &admin, all).await.iter().all(|r| !hidden(r)));
}

/// School S1: grade 7 has classes 7-1 (20 pupils, 3 of them girls) and 7-2 (3); grade 8
/// has 8-1 (12) and 8-2 (20). School S2 (30) is in the same district.
async fn two_grades() -> Fixture {
    let f = Fixture::new();
    let p = f.write(
        "schools.csv",
        "school_code,school_name,district,school_type\nS1,一中,D1,初中\nS2,二中,D1,初中\n",
    );
    f.ingest("schools", Upload::default(), &[p]).await;
    let mut rows = String::from("student_id,school_code,grade,class_code,gender,as_of_date\n");
    for (school, grade, class, girls, boys) in [
        ("S1", 7, "7-1", 3, 17),
        ("S1", 7, "7-2", 1, 2),
        ("S1", 8, "8-1", 6, 6),
        ("S1", 8, "8-2", 10, 10),
        ("S2", 7, "7-1", 15, 15),
    ] {
        for i in 0..girls + boys {
            let gender = if i < girls { "F" } else { "M" };
            rows.push_str(&format!(
                "{school}{class}P{i},{school},{grade},{class},{gender},2026-09-01\n"
            ));
        }
    }
    let p = f.write("enrolment.csv", rows);
    f.ingest("enrolment", Upload::default(), &[p]).await;
    f
}

/// The enrolment of one school as a reader sees it, from every export that shows a part of
/// it, and the female share beside it.
struct Enrolment {
    classes: Table,
    school: Table,
    by_grade: Table,
    by_gender: Table,
    classes_by_gender: Table,
    female_share: Table,
}

impl Enrolment {
    fn of(school: &str, t: Enrolment) -> Enrolment {
        let keep = |rows: Table| -> Table {
            rows.into_iter()
                .filter(|r| r["school_code"] == school)
                .collect()
        };
        Enrolment {
            classes: keep(t.classes),
            school: keep(t.school),
            by_grade: keep(t.by_grade),
            by_gender: keep(t.by_gender),
            classes_by_gender: keep(t.classes_by_gender),
            female_share: keep(t.female_share),
        }
    }

    /// Every published sum against its parts.
    fn assert_protected(&self, who: &str) {
        let school = &self.school[0];
        let all: Vec<_> = self.classes.iter().collect();
        assert_protected(&format!("{who}: school less its classes"), school, &all);
        let grades: Vec<_> = self.by_grade.iter().collect();
        assert_protected(&format!("{who}: school less its grades"), school, &grades);
        assert_each_protected(
            &format!("{who}: grade less its classes"),
            &self.by_grade,
            &self.classes,
            |g, c| c["class_code"].starts_with(&format!("{}-", g["grade"])),
        );
        assert_each_protected(
            &format!("{who}: gender less its classes"),
            &self.by_gender,
            &self.classes_by_gender,
            |s, c| c["gender"] == s["gender"],
        );
        assert_each_protected(
            &format!("{who}: class by gender"),
            &self.classes,
            &self.classes_by_gender,
            |c, g| g["class_code"] == c["class_code"],
        );
        // A girls' count hidden in enrolment is not the female share's numerator.
        for share in &self.female_share {
            let girls = self
                .classes_by_gender
                .iter()
                .find(|g| g["class_code"] == share["class_code"] && g["gender"] == "F")
                .unwrap();
            if hidden(girls) {
                assert!(hidden(share), "{who}: {share:?} shows {girls:?}");
            } else if !hidden(share) {
                assert_eq!(share["numerator"], girls["value"], "{who}");
            }
        }
    }
}

#[tokio::test]
async fn a_margin_or_another_indicator_never_gives_a_hidden_cell_back() {
    let f = two_grades().await;
    let layer = QueryLayer::open(&f.reader).await.unwrap();
    let clerk = Principal::new(Role::SchoolClerk, Scope::School("S1".into())).unwrap();
    let split = |level: Level, by: &'static str| {
        let mut a = ask("enrolled", level);
        a.by = Some(by);
        a
    };
    let seen = |who: Principal| {
        let layer = &layer;
        async move {
            Enrolment {
                classes: export(layer, &who, ask("enrolled", Level::Class)).await,
                school: export(layer, &who, ask("enrolled", Level::School)).await,
                by_grade: export(layer, &who, split(Level::School, "grade")).await,
                by_gender: export(layer, &who, split(Level::School, "gender")).await,
                classes_by_gender: export(layer, &who, split(Level::Class, "gender")).await,
                female_share: export(layer, &who, ask("female_share", Level::Class)).await,
            }
        }
    };
    let admin = seen(Principal::new(Role::BureauAdmin, Scope::Bureau).unwrap()).await;
    let admin = Enrolment::of("S1", admin);
    assert_eq!(measure(&admin.school[0]), Some(55));
    admin.assert_protected("bureau");

    let mine = Enrolment::of("S1", seen(clerk.clone()).await);
    mine.assert_protected("clerk");
    // 7-2 (3 pupils) is hidden, and with it 7-1, the other class of its grade (not 8-1, the
    // smallest class of the school, which would leave grade 7 less 7-1 = 7-2); grade 8 is
    // whole.
    let shown: Vec<(String, bool)> = mine
        .classes
        .iter()
        .map(|c| (c["class_code"].clone(), hidden(c)))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("7-1".into(), true),
            ("7-2".into(), true),
            ("8-1".into(), false),
            ("8-2".into(), false),
        ]
    );
    // 7-1 has 3 girls: hidden in enrolment by gender, and so in the female share.
    let share = |c: &str| {
        mine.female_share
            .iter()
            .find(|s| s["class_code"] == c)
            .cloned()
            .unwrap()
    };
    assert!(hidden(&share("7-1")));
    // 8-1's 6 girls are hidden too, so the female share of 8-2, the other class of grade 8,
    // goes with it (grade 8's share, shown, less 8-2's would give 8-1's).
    assert!(hidden(&share("8-1")) && hidden(&share("8-2")));
    let classes: Vec<_> = mine.female_share.iter().collect();
    let school = export(&layer, &clerk, ask("female_share", Level::School)).await;
    assert_protected(
        "female share: school less its classes",
        &school[0],
        &classes,
    );
    let mut by_grade = ask("female_share", Level::School);
    by_grade.by = Some("grade");
    assert_each_protected(
        "female share: grade less its classes",
        &export(&layer, &clerk, by_grade).await,
        &mine.female_share,
        |g, c| c["class_code"].starts_with(&format!("{}-", g["grade"])),
    );

    // A district's researcher asks the same through SQL, with the same protection.
    let researcher = Principal::new(Role::Researcher, Scope::District("D1".into())).unwrap();
    let sql = |view: &str| {
        let (layer, who) = (&layer, &researcher);
        let query = format!("SELECT * FROM {view} ORDER BY 1, 2, 3, 4");
        async move {
            let (_, b) = layer
                .sql_as(who, &query, &Limits::command_line())
                .await
                .unwrap();
            table(&b)
        }
    };
    let views = Enrolment {
        classes: sql("enrolled_class").await,
        school: sql("enrolled_school").await,
        by_grade: sql("enrolled_school_by_grade").await,
        by_gender: sql("enrolled_school_by_gender").await,
        classes_by_gender: sql("enrolled_class_by_gender").await,
        female_share: sql("female_share_class").await,
    };
    Enrolment::of("S1", views).assert_protected("researcher");
    // And the district less its schools (S2 is shown, S1 too: neither is small).
    let district = sql("enrolled_district").await;
    let schools = sql("enrolled_school").await;
    let parts: Vec<_> = schools.iter().collect();
    assert_protected("district less its schools", &district[0], &parts);
}
