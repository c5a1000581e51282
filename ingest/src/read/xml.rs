//! XML extracts as tables (REPORTING.md "Formats added"): Ed-Fi interchange files and simple
//! record lists (`<items><item>…</item></items>`). Each child element of the root is a record
//! and a row; the most common kind of record is read (an interchange may mix kinds) and the
//! others are counted. A record's columns are its attributes and its leaf elements: a leaf is
//! named by its own name, or — when another leaf of that name came first at another place
//! (`SessionReference/…/SchoolId` after `SchoolReference/…/SchoolId`) — by its whole path. An
//! Ed-Fi 2 descriptor (`<Category><CodeValue>Tardy</CodeValue></Category>`) is named by the
//! element it describes.
//!
//! Entity declarations are refused (`<!ENTITY`): a document's own entities are how an XML bomb
//! grows, and no school system's export needs them. Rows, columns, cells and nesting stay
//! within [`crate::limits`].

use std::collections::HashMap;

use csv::StringRecord;
use quick_xml::events::Event;
use quick_xml::Reader;

use edulake_schemas::msg;
use edulake_schemas::words::Msg;

use super::Table;
use crate::limits::{
    grouped, MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS, MAX_SHEET_CELLS, MAX_SHEET_TEXT_BYTES,
};

/// The deepest nesting read.
const MAX_DEPTH: usize = 64;

/// `(path, text)` of a record's attributes and leaves; a path is its number in [`Paths`].
type Leaves = Vec<(u32, String)>;

/// The places a leaf can be at below its record, each kept once and numbered.
#[derive(Default)]
struct Paths {
    list: Vec<Vec<String>>,
    ids: HashMap<Vec<String>, u32>,
}

impl Paths {
    fn id(&mut self, path: Vec<String>) -> u32 {
        if let Some(id) = self.ids.get(&path) {
            return *id;
        }
        let id = self.list.len() as u32;
        self.list.push(path.clone());
        self.ids.insert(path, id);
        id
    }
}

/// Adds a leaf to a record: its first value at a place is kept (a repeated leaf is a list),
/// within [`MAX_COLUMNS`] places a record and [`MAX_SHEET_CELLS`] cells and
/// [`MAX_SHEET_TEXT_BYTES`] of text a file.
fn add_leaf(r: &mut Record, path: u32, text: String, totals: &mut (u64, u64)) -> Result<(), Msg> {
    if r.cells.iter().any(|(p, _)| *p == path) {
        return Ok(());
    }
    if r.cells.len() >= MAX_COLUMNS {
        return Err(msg!(
            "xml_too_many_elements",
            row = r.line,
            limit = MAX_COLUMNS
        ));
    }
    totals.0 += 1;
    totals.1 += text.len() as u64;
    if totals.0 > MAX_SHEET_CELLS {
        return Err(msg!("too_many_cells", limit = grouped(MAX_SHEET_CELLS)));
    }
    if totals.1 > MAX_SHEET_TEXT_BYTES {
        return Err(msg!(
            "sheet_text_too_big",
            limit = MAX_SHEET_TEXT_BYTES >> 20
        ));
    }
    r.cells.push((path, text));
    Ok(())
}

/// One record: its line, and `(path, text)` for each attribute and leaf.
struct Record {
    line: u64,
    kind: String,
    cells: Leaves,
}

/// Reads an XML document's records as rows.
pub(super) fn read_xml(text: String, encoding: &'static str) -> Result<Table, Msg> {
    if let Some(at) = text.find("<!ENTITY") {
        let line = text[..at].matches('\n').count() + 1;
        return Err(msg!("xml_entities", row = line));
    }
    let mut reader = Reader::from_str(&text);
    // Text is kept whole (an entity splits it: `A &amp; B`) and trimmed once per leaf.
    // Lines are counted up to each record's start.
    let mut counted_to = 0usize;
    let mut line = 1u64;
    let mut line_at = |pos: usize| {
        let pos = pos.min(text.len());
        if pos > counted_to {
            line += text.as_bytes()[counted_to..pos]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted_to = pos;
        }
        line
    };
    let mut root: Option<(String, u64)> = None;
    let mut paths = Paths::default();
    // Values and bytes of text kept so far.
    let mut totals = (0u64, 0u64);
    let mut path: Vec<String> = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    let mut current: Option<Record> = None;
    // The text of the element being read, and whether it has child elements.
    let mut text_buf = String::new();
    let mut has_children: Vec<bool> = Vec::new();
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            let at = line_at(reader.error_position() as usize);
            msg!("xml_malformed", row = at, detail = e.to_string())
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) if path.len() >= MAX_DEPTH => {
                let _ = e;
                return Err(msg!("xml_too_deep", limit = MAX_DEPTH));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = AsRef::<str>::as_ref(&e.local_name()).to_string();
                if let Some(parent) = has_children.last_mut() {
                    *parent = true;
                }
                match path.len() {
                    0 => root = Some((name.clone(), line_at(start))),
                    1 => {
                        if records.len() as u64 >= MAX_ROWS {
                            return Err(msg!("too_many_rows", limit = grouped(MAX_ROWS)));
                        }
                        let mut r = Record {
                            line: line_at(start),
                            kind: name.clone(),
                            cells: Vec::new(),
                        };
                        for a in e.attributes().flatten() {
                            let key = AsRef::<str>::as_ref(&a.key.local_name()).to_string();
                            let value = a
                                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map_err(|err| {
                                    msg!("xml_malformed", row = r.line, detail = err.to_string())
                                })?;
                            let at = paths.id(vec![format!("@{key}")]);
                            add_leaf(&mut r, at, value.into_owned(), &mut totals)?;
                        }
                        current = Some(r);
                    }
                    _ => {}
                }
                text_buf.clear();
                if empty {
                    if path.len() >= 2 {
                        if let Some(r) = current.as_mut() {
                            let mut p = path[2..].to_vec();
                            p.push(name);
                            add_leaf(r, paths.id(p), String::new(), &mut totals)?;
                        }
                    } else if path.len() == 1 {
                        records.extend(current.take());
                    }
                } else {
                    path.push(name);
                    has_children.push(false);
                }
            }
            Event::End(_) => {
                let leaf = !has_children.pop().unwrap_or(true);
                if path.len() >= 3 && leaf {
                    if let Some(r) = current.as_mut() {
                        if text_buf.chars().count() > MAX_CELL_CHARS {
                            return Err(msg!(
                                "xml_element_too_long",
                                row = r.line,
                                limit = grouped(MAX_CELL_CHARS as u64)
                            ));
                        }
                        let at = paths.id(path[2..].to_vec());
                        add_leaf(r, at, text_buf.trim().to_string(), &mut totals)?;
                    }
                } else if path.len() == 2 {
                    records.extend(current.take());
                }
                text_buf.clear();
                path.pop();
            }
            Event::Text(t) if path.len() >= 3 => text_buf.push_str(&t.xml10_content()),
            Event::CData(t) if path.len() >= 3 => text_buf.push_str(&t.into_inner()),
            Event::GeneralRef(r) if path.len() >= 3 => {
                let name = r.xml10_content();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text_buf.push(c),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => text_buf.push_str(s),
                        None => {
                            let at = line_at(start);
                            return Err(msg!(
                                "xml_undeclared_entity",
                                row = at,
                                entity = name.to_string()
                            ));
                        }
                    },
                    Err(e) => {
                        let at = line_at(start);
                        return Err(msg!("xml_malformed", row = at, detail = e.to_string()));
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let Some((root, root_line)) = root else {
        return Err(msg!("xml_empty"));
    };
    // The most common kind of record is the table.
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for r in &records {
        *kinds.entry(r.kind.clone()).or_default() += 1;
    }
    let Some((kind, _)) = kinds
        .iter()
        .max_by_key(|(k, n)| (**n, std::cmp::Reverse(k.as_str())))
        .map(|(k, n)| (k.clone(), *n))
    else {
        return Err(super::unsupported::rejected(msg!(
            "xml_no_records",
            root = root
        )));
    };
    // An Ed-Fi enrolment interchange is read as its school associations, each with what its
    // other records say of the same pupil.
    let (kind, joined) = match kinds.get(ASSOCIATION) {
        Some(_) => (
            ASSOCIATION.to_string(),
            join_by_student(&mut records, &mut paths, &mut totals)?,
        ),
        None => (kind, 0),
    };
    let others = records.len() - kinds[kind.as_str()];
    records.retain(|r| r.kind == kind);
    // Column names: a leaf's own name where it first came at its place; later places of the
    // same name, their whole path.
    let mut by_path: HashMap<u32, usize> = HashMap::new();
    let mut header: Vec<String> = Vec::new();
    let mut taken: HashMap<String, Vec<String>> = HashMap::new();
    for r in &records {
        for (p, _) in &r.cells {
            if by_path.contains_key(p) {
                continue;
            }
            if header.len() >= MAX_COLUMNS {
                return Err(msg!(
                    "xml_too_many_elements",
                    row = root_line,
                    limit = MAX_COLUMNS
                ));
            }
            let mut name = column_name(&paths.list[*p as usize], &mut taken);
            // Two places may still end in one name (`S/Id` first, then `Id`): number it.
            let mut n = 2;
            while header.contains(&name) {
                name = format!(
                    "{}#{n}",
                    name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '#')
                );
                n += 1;
            }
            header.push(name);
            by_path.insert(*p, header.len() - 1);
        }
    }
    let mut rows: Vec<(u64, StringRecord)> = Vec::with_capacity(records.len() + 1);
    for r in &records {
        let mut row = vec![""; header.len()];
        for (p, value) in &r.cells {
            let c = by_path[p];
            // A leaf repeated at one place (a list) keeps its first value.
            if row[c].is_empty() {
                row[c] = value.as_str();
            }
        }
        rows.push((r.line, StringRecord::from(row)));
    }
    rows.insert(0, (root_line, StringRecord::from(header)));
    let format = match (others - joined, joined) {
        (0, 0) => format!("XML <{root}>: {} <{kind}> records", records.len()),
        (0, j) => format!(
            "XML <{root}>: {} <{kind}> records ({j} other records joined by StudentUniqueId)",
            records.len()
        ),
        (o, 0) => format!(
            "XML <{root}>: {} <{kind}> records ({o} other elements not read)",
            records.len()
        ),
        (o, j) => format!(
            "XML <{root}>: {} <{kind}> records ({j} other records joined by StudentUniqueId, \
             {o} other elements not read)",
            records.len()
        ),
    };
    Ok(Table::in_memory(format, encoding, false, rows))
}

/// The record of an Ed-Fi enrolment interchange that is a pupil at a school.
const ASSOCIATION: &str = "StudentSchoolAssociation";

/// Records of an Ed-Fi enrolment interchange that say more of a pupil: the sex (Ed-Fi 3 and
/// later keep it on the education organisation association) and the class (a section; the
/// homeroom one where a pupil has several).
const ABOUT_A_PUPIL: &[&str] = &[
    "StudentEducationOrganizationAssociation",
    "StudentSectionAssociation",
];

/// The pupil a record is about: its first `StudentUniqueId`.
fn pupil_of<'r>(r: &'r Record, paths: &Paths) -> Option<&'r str> {
    r.cells
        .iter()
        .find(|(p, _)| ends_with(paths, *p, "StudentUniqueId"))
        .map(|(_, v)| v.as_str())
}

/// Whether the place `p` is a leaf named `name`.
fn ends_with(paths: &Paths, p: u32, name: &str) -> bool {
    paths.list[p as usize].last().is_some_and(|l| l == name)
}

/// Adds to each school association the leaves of the pupil's other records (one of each kind:
/// a section marked `HomeroomIndicator` true before the others), named under their kind.
/// Returns how many records were joined.
fn join_by_student(
    records: &mut [Record],
    paths: &mut Paths,
    totals: &mut (u64, u64),
) -> Result<usize, Msg> {
    // (kind, pupil) → (a homeroom section, its leaves).
    let mut about: HashMap<(String, String), (bool, Leaves)> = HashMap::new();
    let mut joined = 0;
    for r in records.iter() {
        if !ABOUT_A_PUPIL.contains(&r.kind.as_str()) {
            continue;
        }
        let Some(pupil) = pupil_of(r, paths) else {
            continue;
        };
        let homeroom = r.cells.iter().any(|(p, v)| {
            ends_with(paths, *p, "HomeroomIndicator") && v.eq_ignore_ascii_case("true")
        });
        let mut cells: Leaves = Vec::new();
        for (p, v) in &r.cells {
            if ends_with(paths, *p, "StudentUniqueId") {
                continue;
            }
            let mut path = vec![r.kind.clone()];
            path.extend(paths.list[*p as usize].iter().cloned());
            cells.push((paths.id(path), v.clone()));
        }
        joined += 1;
        let key = (r.kind.clone(), pupil.to_string());
        match about.get(&key) {
            Some((h, _)) if *h || !homeroom => {}
            _ => {
                about.insert(key, (homeroom, cells));
            }
        }
    }
    for r in records.iter_mut().filter(|r| r.kind == ASSOCIATION) {
        let Some(pupil) = pupil_of(r, paths).map(String::from) else {
            continue;
        };
        for kind in ABOUT_A_PUPIL {
            if let Some((_, cells)) = about.get(&(kind.to_string(), pupil.clone())) {
                for (p, v) in cells {
                    add_leaf(r, *p, v.clone(), totals)?;
                }
            }
        }
    }
    Ok(joined)
}

/// The column name of a leaf at `path` (below its record): its own name, the element it
/// describes for an Ed-Fi 2 descriptor (`…/Category/CodeValue`), or its whole path where
/// another place already took that name.
fn column_name(path: &[String], taken: &mut HashMap<String, Vec<String>>) -> String {
    let mut own: &[String] = path;
    if own.len() >= 2 && own.last().is_some_and(|l| l == "CodeValue") {
        own = &own[..own.len() - 1];
    }
    let short = own.last().cloned().unwrap_or_default();
    match taken.get(&short) {
        None => {
            taken.insert(short.clone(), own.to_vec());
            short
        }
        Some(first) if first.as_slice() == own => short,
        Some(_) => own.join("/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Rows;

    fn table(xml: &str) -> Vec<Vec<String>> {
        let t = read_xml(xml.to_string(), "UTF-8").unwrap();
        let Rows::Memory(it) = t.rows else { panic!() };
        it.map(|(_, r)| r.iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn records_with_attributes_leaves_and_descriptors() {
        let rows = table(
            "<?xml version=\"1.0\"?>\n<items>\n<item id=\"1\"><name>A &amp; B</name></item>\n\
             <item id=\"2\"><name><![CDATA[C<D]]></name><n>&#x41;</n></item>\n<other/></items>",
        );
        assert_eq!(rows[0], ["@id", "name", "n"]);
        assert_eq!(rows[1], ["1", "A & B", ""]);
        assert_eq!(rows[2], ["2", "C<D", "A"]);
        let rows = table(
            "<I><E><A><Category><CodeValue>Tardy</CodeValue></Category></A>\
             <S><Id>1</Id></S><T><S><Id>2</Id></S></T></E></I>",
        );
        assert_eq!(rows[0], ["Category", "Id", "T/S/Id"]);
        assert_eq!(rows[1], ["Tardy", "1", "2"]);
    }

    #[test]
    fn empty_leaves_and_repeated_names_make_distinct_columns() {
        let rows = table("<L><R><E/></R><R><E>x</E></R></L>");
        assert_eq!(rows[0], ["E"]);
        assert_eq!(rows[1], [""]);
        assert_eq!(rows[2], ["x"]);
        let rows = table("<L><R><S><Id>1</Id></S><Id>2</Id></R></L>");
        assert_eq!(rows[0], ["Id", "Id#2"]);
        assert_eq!(rows[1], ["1", "2"]);
    }

    #[test]
    fn a_record_of_too_many_elements_is_refused() {
        let mut xml = String::from("<L><R>");
        for i in 0..=MAX_COLUMNS {
            xml.push_str(&format!("<e{i}>1</e{i}>"));
        }
        xml.push_str("</R></L>");
        let e = read_xml(xml, "UTF-8").err().unwrap().to_string();
        assert!(e.contains("more than 256 different elements"), "{e}");
    }

    #[test]
    fn entity_declarations_and_undeclared_entities_are_refused() {
        let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE l [\n<!ENTITY a \"aaaaaaaaaa\">\n\
                    <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<l><r><x>&b;</x></r></l>";
        let e = read_xml(bomb.into(), "UTF-8").err().unwrap().to_string();
        assert!(e.contains("<!ENTITY on line 3"), "{e}");
        let e = read_xml("<l><r><x>&b;</x></r></l>".into(), "UTF-8")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("entity &b;"), "{e}");
        let e = read_xml("<l><r><x>1</y></r></l>".into(), "UTF-8")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("malformed XML on line 1"), "{e}");
    }
}
