//! OneRoster 1.1 and 1.2 bulk bundles (REPORTING.md "Formats added"): a zip of `manifest.csv`
//! and a CSV per entity, read as the table of the dataset asked for.
//! - `schools`: one row per org of type `school` — `identifier`, `name`, its parent org's name
//!   (`parent.name`, the district) and a school type from the grades its classes and pupils
//!   are in (01–06 primary, 07–09 junior, 10–12 senior, 01–09 nine-year, 07–12 complete
//!   secondary, KG/PK kindergarten);
//! - anything else (the roster): one row per pupil and school — the pupil's user
//!   (`user.identifier`, `user.grades`, …), demographics (`demographics.sex`,
//!   `demographics.birthDate`), grade (its own, else its class's), school
//!   (`school.identifier`) and `class` (the class's code, else its title): the homeroom class
//!   where there is one, else the first class of the pupil's enrolments. Enrolments to be
//!   deleted and roles other than student are left out. OneRoster 1.2 moved a user's orgs and
//!   roles to `roles.csv`; both layouts are read.
//!
//! A header written slightly wrong (`sourcedID`, `dataLastModified`, `prefferedGivenName`) is
//! read as the header it is closest to, with a note. Every entry unpacks within
//! [`crate::limits`], as a workbook's parts do.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read};

use csv::StringRecord;

use edulake_schemas::msg;
use edulake_schemas::words::Msg;

use super::Table;
use crate::limits::{
    check_unpacked, grouped, MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, MAX_SHEET_CELLS,
};

/// What a bundle is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    Schools,
    Roster,
}

/// Whether a zip is a OneRoster bundle: a `manifest.csv` naming `oneroster.version`.
pub(super) fn is_oneroster(bytes: &[u8]) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    let Ok(manifest) = zip.by_name("manifest.csv") else {
        return false;
    };
    let mut head = Vec::new();
    let _ = manifest.take(64 << 10).read_to_end(&mut head);
    String::from_utf8_lossy(&head).contains("oneroster.version")
}

/// One entity's CSV: its rows as maps from the spec's header to the cell.
struct Entity {
    rows: Vec<HashMap<&'static str, String>>,
}

/// The headers of each entity the reader uses, as the spec writes them.
const EXPECTED: &[(&str, &[&str])] = &[
    ("manifest", &["propertyName", "value"]),
    (
        "orgs",
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parentSourcedId",
        ],
    ),
    (
        "users",
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "enabledUser",
            "orgSourcedIds",
            "role",
            "username",
            "userIds",
            "givenName",
            "familyName",
            "middleName",
            "identifier",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "password",
            "userMasterIdentifier",
            "resourceSourcedIds",
            "preferredGivenName",
            "preferredMiddleName",
            "preferredFamilyName",
            "primaryOrgSourcedId",
            "pronouns",
        ],
    ),
    (
        "roles",
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "userSourcedId",
            "roleType",
            "role",
            "beginDate",
            "endDate",
            "orgSourcedId",
            "userProfileSourcedId",
        ],
    ),
    (
        "enrollments",
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
            "beginDate",
            "endDate",
        ],
    ),
    (
        "classes",
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "schoolSourcedId",
            "termSourcedIds",
            "subjects",
            "subjectCodes",
            "periods",
        ],
    ),
    (
        "demographics",
        &[
            "sourcedId",
            "status",
            "dateLastModified",
            "birthDate",
            "sex",
            "americanIndianOrAlaskaNative",
            "asian",
            "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander",
            "white",
            "demographicRaceTwoOrMoreRaces",
            "hispanicOrLatinoEthnicity",
            "countryOfBirthCode",
            "stateOfBirthAbbreviation",
            "cityOfBirth",
            "publicSchoolResidenceStatus",
        ],
    ),
];

/// The edits that turn one word into another (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The spec's header a file's header stands for: the same ignoring case, else the one at most
/// two edits away (and closer than any other).
fn header_for(written: &str, expected: &'static [&'static str]) -> Option<(&'static str, bool)> {
    let w = written.trim().trim_start_matches('\u{feff}');
    if let Some(e) = expected.iter().find(|e| e.eq_ignore_ascii_case(w)) {
        return Some((e, false));
    }
    let lower = w.to_ascii_lowercase();
    let mut scored: Vec<(usize, &'static str)> = expected
        .iter()
        // Two edits cannot bridge a longer difference in length.
        .filter(|e| e.len().abs_diff(lower.len()) <= 2)
        .map(|e| (distance(&lower, &e.to_ascii_lowercase()), *e))
        .filter(|(d, _)| *d <= 2)
        .collect();
    scored.sort();
    match scored.as_slice() {
        [(d, e)] => Some((e, *d > 0)),
        [(d, e), (d2, _), ..] if d < d2 => Some((e, *d > 0)),
        _ => None,
    }
}

/// The bundle's entries, unpacked within the limits.
struct Bundle {
    zip: zip::ZipArchive<Cursor<Vec<u8>>>,
    size: u64,
    total: u64,
    /// Filled cells kept from all entities (an empty one is not kept).
    cells: u64,
    notes: Vec<Msg>,
}

impl Bundle {
    /// An entity's CSV (`orgs` → `orgs.csv`), if the bundle has it.
    fn entity(&mut self, name: &str) -> Result<Option<Entity>, Msg> {
        let expected = EXPECTED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, h)| *h)
            .expect("an entity the reader knows");
        let file = format!("{name}.csv");
        let Some(index) = (0..self.zip.len()).find(|i| {
            self.zip
                .name_for_index(*i)
                .and_then(|n| n.ok())
                .is_some_and(|n| {
                    n.rsplit('/')
                        .next()
                        .is_some_and(|f| f.eq_ignore_ascii_case(&file))
                })
        }) else {
            return Ok(None);
        };
        let mut part = self
            .zip
            .by_index(index)
            .map_err(|e| msg!("oneroster_damaged", detail = e.to_string()))?;
        let compressed = part.compressed_size();
        let mut bytes = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(msg!("oneroster_damaged", detail = e.to_string())),
            };
            bytes.extend_from_slice(&buf[..n]);
            self.total += n as u64;
            check_unpacked(msg!("the_oneroster_bundle"), bytes.len() as u64, compressed)?;
            check_unpacked(msg!("the_oneroster_bundle"), self.total, self.size)?;
        }
        drop(part);
        let text =
            String::from_utf8(bytes).map_err(|_| msg!("oneroster_not_utf8", file = &file))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let Some(head) = records.next() else {
            return Ok(Some(Entity { rows: Vec::new() }));
        };
        let head =
            head.map_err(|e| msg!("oneroster_file_bad", file = &file, detail = e.to_string()))?;
        if head.len() > MAX_COLUMNS {
            return Err(msg!(
                "too_many_columns_in",
                file = &file,
                limit = MAX_COLUMNS
            ));
        }
        let mut columns: Vec<Option<&'static str>> = Vec::with_capacity(head.len());
        for h in head.iter() {
            let found = header_for(h, expected);
            if let Some((e, true)) = found {
                self.notes.push(msg!(
                    "oneroster_spelling",
                    file = &file,
                    header = h.trim(),
                    read_as = e
                ));
            }
            columns.push(found.map(|(e, _)| e));
        }
        let mut rows = Vec::new();
        for (i, r) in records.enumerate() {
            if i as u64 >= MAX_ROWS {
                return Err(msg!(
                    "too_many_rows_in",
                    file = &file,
                    limit = grouped(MAX_ROWS)
                ));
            }
            let r =
                r.map_err(|e| msg!("oneroster_file_bad", file = &file, detail = e.to_string()))?;
            let mut row = HashMap::new();
            for (c, v) in columns.iter().zip(r.iter()) {
                let v = v.trim();
                if let (Some(c), false) = (c, v.is_empty()) {
                    if v.chars().count() > MAX_CELL_CHARS {
                        return Err(msg!(
                            "cell_too_long_in",
                            file = &file,
                            row = i + 2,
                            limit = grouped(MAX_CELL_CHARS as u64)
                        ));
                    }
                    self.cells += 1;
                    if self.cells > MAX_SHEET_CELLS {
                        return Err(msg!("too_many_cells", limit = grouped(MAX_SHEET_CELLS)));
                    }
                    row.insert(*c, v.to_string());
                }
            }
            rows.push(row);
        }
        Ok(Some(Entity { rows }))
    }
}

fn get<'a>(row: &'a HashMap<&'static str, String>, key: &str) -> &'a str {
    row.get(key).map(String::as_str).unwrap_or("")
}

/// Whether a row is one the bundle means to remove.
fn deleted(row: &HashMap<&'static str, String>) -> bool {
    get(row, "status").eq_ignore_ascii_case("tobedeleted")
}

/// Reads a OneRoster bundle as the table `want` asks for.
pub(super) fn read_oneroster(bytes: Vec<u8>, want: Want) -> Result<Table, Msg> {
    let size = bytes.len() as u64;
    let zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| msg!("oneroster_damaged", detail = e.to_string()))?;
    let mut b = Bundle {
        zip,
        size,
        total: 0,
        cells: 0,
        notes: Vec::new(),
    };
    let version = b
        .entity("manifest")?
        .and_then(|m| {
            m.rows
                .iter()
                .find(|r| get(r, "propertyName") == "oneroster.version")
                .map(|r| get(r, "value").to_string())
        })
        .unwrap_or_default();
    let orgs = b
        .entity("orgs")?
        .ok_or(msg!("oneroster_lacks", file = "orgs.csv"))?;
    let org_by_id: HashMap<&str, &HashMap<&'static str, String>> = orgs
        .rows
        .iter()
        .filter(|r| !deleted(r))
        .map(|r| (get(r, "sourcedId"), r))
        .collect();
    let classes = b.entity("classes")?.map(|e| e.rows).unwrap_or_default();
    let users = b
        .entity("users")?
        .ok_or(msg!("oneroster_lacks", file = "users.csv"))?;
    // A user's role and orgs: users.csv (1.1) or roles.csv (1.2).
    let roles = b.entity("roles")?.map(|e| e.rows).unwrap_or_default();
    let mut student: HashSet<String> = HashSet::new();
    let mut orgs_of: HashMap<String, Vec<String>> = HashMap::new();
    for u in users.rows.iter().filter(|u| !deleted(u)) {
        let id = get(u, "sourcedId").to_string();
        if get(u, "role").eq_ignore_ascii_case("student") {
            student.insert(id.clone());
        }
        for o in get(u, "orgSourcedIds")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            orgs_of.entry(id.clone()).or_default().push(o.to_string());
        }
    }
    for r in roles.iter().filter(|r| !deleted(r)) {
        let id = get(r, "userSourcedId").to_string();
        if get(r, "role").eq_ignore_ascii_case("student") {
            student.insert(id.clone());
            let org = get(r, "orgSourcedId");
            if !org.is_empty() {
                orgs_of.entry(id).or_default().push(org.to_string());
            }
        }
    }
    let grades_of = |text: &str| -> Vec<String> {
        text.split(',')
            .map(|g| g.trim().to_ascii_uppercase())
            .filter(|g| !g.is_empty())
            .collect()
    };
    let format = format!(
        "OneRoster {} bundle",
        if version.is_empty() {
            "(no version)"
        } else {
            version.as_str()
        }
    );
    let (header, rows): (Vec<&str>, Vec<Vec<String>>) = match want {
        Want::Schools => {
            // The grades each school teaches: its classes' and its pupils'.
            let mut grades: HashMap<&str, HashSet<String>> = HashMap::new();
            for c in classes.iter().filter(|c| !deleted(c)) {
                grades
                    .entry(get(c, "schoolSourcedId"))
                    .or_default()
                    .extend(grades_of(get(c, "grades")));
            }
            for u in users
                .rows
                .iter()
                .filter(|u| student.contains(get(u, "sourcedId")))
            {
                for o in orgs_of.get(get(u, "sourcedId")).into_iter().flatten() {
                    if let Some((k, _)) = org_by_id.get_key_value(o.as_str()) {
                        grades
                            .entry(k)
                            .or_default()
                            .extend(grades_of(get(u, "grades")));
                    }
                }
            }
            let rows = orgs
                .rows
                .iter()
                .filter(|o| !deleted(o) && get(o, "type").eq_ignore_ascii_case("school"))
                .map(|o| {
                    let parent = org_by_id
                        .get(get(o, "parentSourcedId"))
                        .map(|p| get(p, "name").to_string())
                        .unwrap_or_default();
                    let taught = grades.get(get(o, "sourcedId"));
                    vec![
                        get(o, "sourcedId").to_string(),
                        get(o, "identifier").to_string(),
                        get(o, "name").to_string(),
                        parent,
                        school_type(taught).to_string(),
                    ]
                })
                .collect();
            (
                vec![
                    "sourcedId",
                    "identifier",
                    "name",
                    "parent.name",
                    "school.type",
                ],
                rows,
            )
        }
        Want::Roster => {
            let demographics: HashMap<String, HashMap<&'static str, String>> = b
                .entity("demographics")?
                .map(|e| e.rows)
                .unwrap_or_default()
                .into_iter()
                .filter(|d| !deleted(d))
                .map(|d| (get(&d, "sourcedId").to_string(), d))
                .collect();
            let enrollments = b
                .entity("enrollments")?
                .ok_or(msg!("oneroster_lacks", file = "enrollments.csv"))?;
            let class_by_id: HashMap<&str, &HashMap<&'static str, String>> = classes
                .iter()
                .filter(|c| !deleted(c))
                .map(|c| (get(c, "sourcedId"), c))
                .collect();
            // (school, user) → its class: the homeroom, else the first.
            let mut placed: BTreeMap<(String, String), (bool, usize, &str)> = BTreeMap::new();
            for (i, e) in enrollments.rows.iter().enumerate() {
                if deleted(e) || !get(e, "role").eq_ignore_ascii_case("student") {
                    continue;
                }
                let class = get(e, "classSourcedId");
                let homeroom = class_by_id
                    .get(class)
                    .is_some_and(|c| get(c, "classType").eq_ignore_ascii_case("homeroom"));
                let key = (
                    get(e, "schoolSourcedId").to_string(),
                    get(e, "userSourcedId").to_string(),
                );
                let better = placed.get(&key).is_none_or(|(h, _, _)| homeroom && !*h);
                if better {
                    placed.insert(key, (homeroom, i, class));
                }
            }
            let user_by_id: HashMap<&str, &HashMap<&'static str, String>> = users
                .rows
                .iter()
                .filter(|u| !deleted(u))
                .map(|u| (get(u, "sourcedId"), u))
                .collect();
            let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
            for ((school, user), (_, at, class)) in &placed {
                // A user to be deleted (or not in users.csv) is not on the roster.
                let Some(u) = user_by_id.get(user.as_str()) else {
                    continue;
                };
                let u = Some(u);
                let c = class_by_id.get(class);
                let o = org_by_id.get(school.as_str());
                let d = demographics.get(user);
                let of = |r: Option<&&HashMap<&'static str, String>>, k: &str| {
                    r.map(|r| get(r, k).to_string()).unwrap_or_default()
                };
                // A pupil's grade: its own, else its class's (the first of a list).
                let grade = grades_of(&of(u, "grades"))
                    .into_iter()
                    .chain(grades_of(&of(c, "grades")))
                    .next()
                    .unwrap_or_default();
                let class = Some(of(c, "classCode"))
                    .filter(|code| !code.is_empty())
                    .unwrap_or_else(|| of(c, "title"));
                rows.push((
                    *at,
                    vec![
                        user.clone(),
                        of(u, "identifier"),
                        of(u, "username"),
                        of(u, "givenName"),
                        of(u, "familyName"),
                        grade,
                        d.map(|d| get(d, "sex").to_string()).unwrap_or_default(),
                        d.map(|d| get(d, "birthDate").to_string())
                            .unwrap_or_default(),
                        of(o, "identifier"),
                        of(o, "name"),
                        class,
                    ],
                ));
            }
            rows.sort_by_key(|(at, _)| *at);
            (
                vec![
                    "user.sourcedId",
                    "user.identifier",
                    "user.username",
                    "user.givenName",
                    "user.familyName",
                    "grade",
                    "demographics.sex",
                    "demographics.birthDate",
                    "school.identifier",
                    "school.name",
                    "class",
                ],
                rows.into_iter().map(|(_, r)| r).collect(),
            )
        }
    };
    let mut out: Vec<(u64, StringRecord)> = Vec::with_capacity(rows.len() + 1);
    out.push((1, StringRecord::from(header)));
    for (i, r) in rows.into_iter().enumerate() {
        // A row's number is its place in the table the bundle was read as.
        out.push((i as u64 + 2, StringRecord::from(r)));
    }
    let mut table = Table::in_memory(format, "UTF-8", false, out);
    table.notes = b.notes;
    Ok(table)
}

/// The type of a school from the grades it teaches (CEDS codes: `01`…`12`, `KG`, `PK`).
fn school_type(grades: Option<&HashSet<String>>) -> &'static str {
    let Some(grades) = grades else { return "" };
    let numbers: Vec<u32> = grades.iter().filter_map(|g| g.parse().ok()).collect();
    let early = grades
        .iter()
        .any(|g| matches!(g.as_str(), "KG" | "PK" | "PR" | "IT"));
    let (Some(lo), Some(hi)) = (numbers.iter().min(), numbers.iter().max()) else {
        return if early { "kindergarten" } else { "" };
    };
    match (lo, hi) {
        (1..=6, 1..=6) => "primary",
        (7..=9, 7..=9) => "junior",
        (10..=12, 10..=12) => "senior",
        (1..=6, 7..=9) => "nine_year",
        (7..=9, 10..=12) => "complete_secondary",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_written_slightly_wrong_are_read_as_the_spec_writes_them() {
        let users = EXPECTED.iter().find(|(n, _)| *n == "users").unwrap().1;
        assert_eq!(header_for("sourcedID", users), Some(("sourcedId", false)));
        assert_eq!(
            header_for("prefferedGivenName", users),
            Some(("preferredGivenName", true))
        );
        assert_eq!(
            header_for("dataLastModified", users),
            Some(("dateLastModified", true))
        );
        assert_eq!(header_for("favouriteColour", users), None);
    }

    #[test]
    fn school_types_from_grades() {
        let set = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        assert_eq!(school_type(Some(&set(&["01", "06"]))), "primary");
        assert_eq!(school_type(Some(&set(&["07", "08", "09"]))), "junior");
        assert_eq!(school_type(Some(&set(&["01", "09"]))), "nine_year");
        assert_eq!(school_type(Some(&set(&["KG"]))), "kindergarten");
        assert_eq!(school_type(None), "");
    }
}
