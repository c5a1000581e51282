//! Every word of the cockpit in Chinese (the default) and English: the one catalogue is
//! `edulake_schemas::words`; this adds the words that need transform (an indicator's name).

pub use edulake_schemas::words::{column_word, lookup, t, Lang, Msg};

/// An indicator's name in a language (Chinese from its SQL header).
pub fn indicator_name(lang: Lang, name: &str) -> String {
    let ind = edulake_transform::indicators::by_name(name).ok();
    match (lang, ind) {
        (Lang::Zh, Some(i)) if !i.name_zh.is_empty() => i.name_zh.clone(),
        _ => {
            let words = name.replace('_', " ");
            let mut c = words.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_are_named_in_both_languages() {
        assert_eq!(indicator_name(Lang::Zh, "attendance_rate"), "出勤率");
        assert_eq!(
            indicator_name(Lang::En, "attendance_rate"),
            "Attendance rate"
        );
    }
}
