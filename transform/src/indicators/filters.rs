//! Filters of an indicator's rows: by the schools' type, by grade, by gender, where the
//! indicator's rows know them (INDICATORS.md levels and splits).
//!
//! A filtered row is a sum of the indicator's cells that match: a school's type selects its
//! school cells, a grade the classes of that grade (`7-1` is grade 7) or the indicator's grade
//! split, a gender its gender split. So only indicators that add up ([`Aggregate::Sum`]) take
//! filters, and for a restricted reader a filtered row is hidden wherever one of its cells is
//! (a shown filtered row is then a sum of shown cells, which gives back no hidden one, alone
//! or against any total: see `views/filtered.rs`).

use super::{Aggregate, Indicator, Level};

/// What rows to keep; `None` keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    /// A school type of the registry (`primary`, `junior`, …).
    pub school_type: Option<String>,
    /// A grade, 1–12.
    pub grade: Option<u8>,
    /// `M` or `F`.
    pub gender: Option<String>,
}

/// The names of the filters, as requests and links spell them.
pub const FILTERS: [&str; 3] = ["school_type", "grade", "gender"];

impl Filters {
    /// Filters as people write them: a school type's value or Chinese word (`junior`, 初中),
    /// a grade 1–12, a gender (`M`, 女); an empty one is none. `Err`: the filter's name and
    /// the value that is not one.
    pub fn from_words(
        school_type: Option<&str>,
        grade: Option<&str>,
        gender: Option<&str>,
    ) -> Result<Filters, (&'static str, String)> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        let mut f = Filters::default();
        if let Some(t) = given(school_type) {
            let v = edulake_schemas::vocab::SCHOOL_TYPE.resolve(t);
            f.school_type = Some(v.ok_or(("school_type", t.to_string()))?.to_string());
        }
        if let Some(g) = given(grade) {
            let v = g.parse::<u8>().ok().filter(|g| (1..=12).contains(g));
            f.grade = Some(v.ok_or(("grade", g.to_string()))?);
        }
        if let Some(g) = given(gender) {
            let v = edulake_schemas::vocab::GENDER.resolve(g);
            f.gender = Some(v.ok_or(("gender", g.to_string()))?.to_string());
        }
        Ok(f)
    }

    pub fn is_empty(&self) -> bool {
        self.school_type.is_none() && self.grade.is_none() && self.gender.is_none()
    }

    /// The filters set, by name.
    pub fn set(&self) -> Vec<&'static str> {
        let on = [
            self.school_type.is_some(),
            self.grade.is_some(),
            self.gender.is_some(),
        ];
        FILTERS
            .iter()
            .zip(on)
            .filter(|(_, on)| *on)
            .map(|(f, _)| *f)
            .collect()
    }

    /// These filters less the ones `ind` does not take, and the names of those left out.
    pub fn for_indicator(&self, ind: &Indicator) -> (Filters, Vec<&'static str>) {
        let takes = ind.filters();
        let mut kept = self.clone();
        let mut dropped = Vec::new();
        for f in self.set() {
            if !takes.contains(&f) {
                dropped.push(f);
                match f {
                    "school_type" => kept.school_type = None,
                    "grade" => kept.grade = None,
                    _ => kept.gender = None,
                }
            }
        }
        (kept, dropped)
    }
}

impl Filters {
    /// [`Filters::for_indicator`] for a request split by `by`: also leaving out a gender other
    /// than the split's, and a grade that neither the split nor the indicator's classes give.
    pub fn for_request(&self, ind: &Indicator, by: Option<&str>) -> (Filters, Vec<&'static str>) {
        let (mut kept, mut dropped) = self.for_indicator(ind);
        if let Some(b) = by {
            if kept.gender.is_some() && b != "gender" {
                kept.gender = None;
                dropped.push("gender");
            }
        }
        let by_class = ind.levels.contains(&Level::Class);
        let split = by.or(kept.gender.as_ref().map(|_| "gender"));
        if kept.grade.is_some() && split.is_some_and(|s| s != "grade") && !by_class {
            kept.grade = None;
            dropped.push("grade");
        }
        (kept, dropped)
    }
}

impl Indicator {
    /// The filters the indicator takes: its rows must add up, and know the dimension (a
    /// school type from their school, a grade from their class or a grade split, a gender from
    /// a gender split).
    pub fn filters(&self) -> Vec<&'static str> {
        if self.aggregate != Aggregate::Sum {
            return Vec::new();
        }
        let mut out = Vec::new();
        if self.levels.contains(&Level::School) {
            out.push("school_type");
        }
        if self.levels.contains(&Level::Class) || self.by.iter().any(|b| b == "grade") {
            out.push("grade");
        }
        if self.by.iter().any(|b| b == "gender") {
            out.push("gender");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::by_name;

    #[test]
    fn each_indicator_takes_the_filters_its_rows_know() {
        let takes = |n: &str| by_name(n).unwrap().filters();
        assert_eq!(takes("attendance_rate"), ["school_type", "grade"]);
        assert_eq!(takes("enrolled"), ["school_type", "grade", "gender"]);
        // A median or a count of distinct people does not add up: no filter.
        assert!(takes("notice_median_hours").is_empty());
        let asked = Filters {
            gender: Some("F".into()),
            grade: Some(7),
            ..Default::default()
        };
        let (kept, dropped) = asked.for_indicator(by_name("attendance_rate").unwrap());
        assert_eq!(kept.grade, Some(7));
        assert_eq!(kept.gender, None);
        assert_eq!(dropped, ["gender"]);
        // Enrolment split by grade keeps no gender filter.
        let (kept, dropped) = asked.for_request(by_name("enrolled").unwrap(), Some("grade"));
        assert_eq!((kept.grade, kept.gender.as_deref()), (Some(7), None));
        assert_eq!(dropped, ["gender"]);
    }
}
