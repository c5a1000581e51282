//! Every word edulake says to a person, in Chinese (the default) and English: the one
//! catalogue.
//!
//! # Layout
//! - [`pages`]: the cockpit's words, by key.
//! - [`columns`]: the words for columns (downloads, templates, messages naming a column).
//! - [`ingest`]: what ingest says about files and rows: errors, reasons, notes, warnings.
//!
//! A message is a [`Msg`]: a key of the catalogue and its named arguments, rendered in a
//! language only when a person reads it ([`Msg::render`]). Its arguments are text as written
//! (values, numbers, dates), another message, a column or a vocabulary (whose values are
//! listed with their Chinese words).

pub mod columns;
pub mod ingest;
pub mod pages;

use std::fmt;

use crate::vocab::Vocabulary;

/// The language a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// `en` is English; anything else (or nothing) is Chinese.
    pub fn parse(s: Option<&str>) -> Lang {
        match s {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The language of a locale (`LC_ALL`, `LC_MESSAGES`, `LANG`): English for `en…`, else
    /// Chinese.
    pub fn of_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The language of this process's locale, the first of `LC_ALL`, `LC_MESSAGES` and `LANG`
    /// that is set.
    pub fn from_env() -> Lang {
        let set = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty());
        Lang::of_locale(set.as_deref())
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The value of `<html lang>`.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// How a list is joined.
    fn comma(self) -> &'static str {
        match self {
            Lang::Zh => "、",
            Lang::En => ", ",
        }
    }
}

/// The words of `key` in a table of (key, Chinese, English), in a language.
fn pick(
    table: &[(&str, &'static str, &'static str)],
    lang: Lang,
    key: &str,
) -> Option<&'static str> {
    table
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| match lang {
            Lang::Zh => *zh,
            Lang::En => *en,
        })
}

/// The cockpit's text of a key in a language; a missing key shows as `⟨key⟩`, which the tests
/// look for.
pub fn t(lang: Lang, key: &str) -> String {
    lookup(lang, key).unwrap_or_else(|| format!("⟨{key}⟩"))
}

/// The cockpit's text of a key, if there is one.
pub fn lookup(lang: Lang, key: &str) -> Option<String> {
    pick(pages::TEXTS, lang, key).map(String::from)
}

/// A column's word in a language: from [`columns::COLUMNS`], else (in Chinese) the first
/// Chinese header word of a dataset's column of that name, else the name itself.
pub fn column_word(lang: Lang, name: &str) -> String {
    if let Some(w) = pick(columns::COLUMNS, lang, name) {
        return w.to_string();
    }
    if lang == Lang::Zh {
        let chinese = crate::all()
            .iter()
            .flat_map(|d| d.columns.iter())
            .filter(|c| c.name == name)
            .flat_map(|c| c.aliases.iter())
            .find(|a| has_chinese(a));
        if let Some(w) = chinese {
            return w.to_string();
        }
    }
    name.to_string()
}

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A value of a vocabulary as a person reads it: its Chinese word in Chinese, the value with
/// its Chinese word in English (`sick_leave (病假)`).
pub fn value_word(lang: Lang, vocab: &Vocabulary, value: &str) -> String {
    let chinese = vocab
        .values
        .iter()
        .find(|(v, _)| *v == value)
        .and_then(|(_, aliases)| aliases.iter().find(|a| has_chinese(a)));
    match (lang, chinese) {
        (Lang::Zh, Some(w)) => w.to_string(),
        (Lang::En, Some(w)) => format!("{value} ({w})"),
        (_, None) => value.to_string(),
    }
}

/// A grade's words: 一年级…九年级, 高一…高三 in Chinese, `Grade 7` in English.
pub fn grade_word(lang: Lang, g: u8) -> String {
    const ZH: [&str; 12] = [
        "一年级",
        "二年级",
        "三年级",
        "四年级",
        "五年级",
        "六年级",
        "七年级",
        "八年级",
        "九年级",
        "高一",
        "高二",
        "高三",
    ];
    match (lang, ZH.get(usize::from(g).wrapping_sub(1))) {
        (Lang::Zh, Some(w)) => w.to_string(),
        _ => t(lang, "filter_grade_n").replace("{n}", &g.to_string()),
    }
}

/// A message for a person: a key of the catalogue and its arguments. Its `Debug` is its
/// English text, so a report holding messages reads as the person would.
#[derive(Clone, PartialEq)]
pub struct Msg {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

/// An argument of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Text as written: a value from a file, a number, a date, a file's name.
    Text(String),
    /// A phrase of its own.
    Msg(Box<Msg>),
    /// A column, by its dataset name: its word in Chinese, its name in English.
    Column(&'static str),
    /// The values of a vocabulary, listed with their Chinese words.
    Values(&'static Vocabulary),
    /// The name of a vocabulary (考勤状态 / attendance status).
    Vocab(&'static Vocabulary),
    /// A dataset, by its name: its word in the reader's language (考勤 / attendance).
    Dataset(&'static str),
    /// Several arguments, joined as a list.
    List(Vec<Arg>),
    /// Text written in each language (a profile's title).
    Both { zh: String, en: String },
}

impl Arg {
    /// A column, by its dataset name.
    pub fn column(name: &'static str) -> Arg {
        Arg::Column(name)
    }

    /// Columns, by their dataset names, as a list.
    pub fn columns<'a>(names: impl IntoIterator<Item = &'a &'static str>) -> Arg {
        Arg::List(names.into_iter().map(|n| Arg::Column(n)).collect())
    }

    /// Text as written, as a list.
    pub fn texts<T: ToString>(items: impl IntoIterator<Item = T>) -> Arg {
        Arg::List(
            items
                .into_iter()
                .map(|t| Arg::Text(t.to_string()))
                .collect(),
        )
    }

    fn render(&self, lang: Lang, out: &mut String) {
        match self {
            Arg::Text(t) => out.push_str(t),
            Arg::Msg(m) => m.render_into(lang, out),
            // In English, the column's own name (as the data dictionary and the files'
            // English headers write it); in Chinese, its word with the name after it.
            Arg::Column(name) => match lang {
                Lang::En => out.push_str(name),
                Lang::Zh => {
                    let word = column_word(lang, name);
                    out.push_str(&word);
                    if word != *name {
                        out.push('（');
                        out.push_str(name);
                        out.push('）');
                    }
                }
            },
            Arg::Values(v) => {
                let words: Vec<String> = v.canonical().map(|c| value_word(lang, v, c)).collect();
                out.push_str(&words.join(lang.comma()));
            }
            Arg::Vocab(v) => {
                let key = format!("vocab_{}", v.name);
                match pick(ingest::MESSAGES, lang, &key) {
                    Some(w) => out.push_str(w),
                    None => out.push_str(v.name),
                }
            }
            Arg::Both { zh, en } => out.push_str(match lang {
                Lang::Zh => zh,
                Lang::En => en,
            }),
            Arg::Dataset(name) => match (lang, lookup(lang, &format!("ds_{name}"))) {
                (Lang::Zh, Some(w)) => {
                    out.push_str(&w);
                    out.push('（');
                    out.push_str(name);
                    out.push('）');
                }
                _ => {
                    out.push('`');
                    out.push_str(name);
                    out.push('`');
                }
            },
            Arg::List(items) => {
                for (i, a) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(lang.comma());
                    }
                    a.render(lang, out);
                }
            }
        }
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg::Text(s.clone())
    }
}
impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}
impl From<Msg> for Arg {
    fn from(m: Msg) -> Self {
        Arg::Msg(Box::new(m))
    }
}
impl From<&'static Vocabulary> for Arg {
    fn from(v: &'static Vocabulary) -> Self {
        Arg::Values(v)
    }
}
macro_rules! arg_from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::Text(v.to_string())
            }
        }
    )*};
}
arg_from_display!(u64, i64, u32, i32, usize, f64, char, chrono::NaiveDate);

/// A message: `msg!("key", name = value, …)`, each value anything an [`Arg`] is made from.
#[macro_export]
macro_rules! msg {
    ($key:literal $(, $name:ident = $val:expr)* $(,)?) => {
        $crate::words::Msg::new(
            $key,
            vec![$((stringify!($name), $crate::words::Arg::from($val))),*],
        )
    };
}

impl Msg {
    pub fn new(key: &'static str, args: Vec<(&'static str, Arg)>) -> Msg {
        Msg { key, args }
    }

    /// Text as written, for what has no words of its own (a library's error, passed on).
    pub fn plain(text: impl Into<String>) -> Msg {
        Msg::new("plain", vec![("text", Arg::Text(text.into()))])
    }

    /// The message in a language. A key missing from the catalogue shows as `⟨key⟩` and its
    /// arguments, which the tests look for.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = String::new();
        self.render_into(lang, &mut out);
        out
    }

    fn render_into(&self, lang: Lang, out: &mut String) {
        let Some(template) = pick(ingest::MESSAGES, lang, self.key) else {
            out.push('⟨');
            out.push_str(self.key);
            out.push('⟩');
            for (name, a) in &self.args {
                out.push(' ');
                out.push_str(name);
                out.push('=');
                a.render(lang, out);
            }
            return;
        };
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    let name = &after[..close];
                    match self.args.iter().find(|(n, _)| *n == name) {
                        Some((_, a)) => a.render(lang, out),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &after[close + 1..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
    }

    /// Cuts each text argument, here and in the messages inside, with `cut(text, chars)` (a
    /// value quoted in a reason is kept short).
    pub fn clip(&mut self, chars: usize, cut: fn(&str, usize) -> String) {
        fn arg(a: &mut Arg, chars: usize, cut: fn(&str, usize) -> String) {
            match a {
                Arg::Text(t) => *t = cut(t, chars),
                Arg::Msg(m) => m.clip(chars, cut),
                Arg::List(items) => items.iter_mut().for_each(|a| arg(a, chars, cut)),
                Arg::Column(_)
                | Arg::Values(_)
                | Arg::Vocab(_)
                | Arg::Dataset(_)
                | Arg::Both { .. } => {}
            }
        }
        for (_, a) in &mut self.args {
            arg(a, chars, cut);
        }
    }

    /// Whether the message, or one inside it, has this key.
    pub fn has_key(&self, key: &str) -> bool {
        self.key == key
            || self.args.iter().any(|(_, a)| match a {
                Arg::Msg(m) => m.has_key(key),
                _ => false,
            })
    }
}

/// In English: for logs, errors passed on and tests.
impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.render(Lang::En))
    }
}

impl std::error::Error for Msg {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The names in a template's `{…}`.
    fn slots(template: &str) -> HashSet<&str> {
        template
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n))
            .collect()
    }

    #[test]
    fn every_key_once_in_both_languages_with_the_same_slots() {
        for table in [pages::TEXTS, columns::COLUMNS, ingest::MESSAGES] {
            let mut keys = HashSet::new();
            for (k, zh, en) in table {
                assert!(keys.insert(k), "{k} twice");
                assert!(!zh.is_empty() && !en.is_empty(), "{k}");
                assert_eq!(slots(zh), slots(en), "{k}: the languages name other slots");
            }
        }
        assert_eq!(t(Lang::En, "nav_overview"), "Overview");
        assert_eq!(t(Lang::Zh, "nav_overview"), "总览");
    }

    #[test]
    fn messages_render_their_arguments_in_the_language() {
        let m = crate::msg!(
            "not_in_vocab",
            value = "请假?",
            vocab = Arg::Vocab(&crate::vocab::ATTENDANCE_STATUS),
            expected = &crate::vocab::ATTENDANCE_STATUS,
        );
        let zh = m.render(Lang::Zh);
        assert!(zh.contains("请假?"), "{zh}");
        assert!(zh.contains("考勤状态"), "{zh}");
        assert!(zh.contains("出勤、迟到、早退"), "{zh}");
        assert!(!zh.contains("present"), "{zh}");
        let en = m.to_string();
        assert!(en.contains("attendance status"), "{en}");
        assert!(en.contains("present (出勤), late (迟到)"), "{en}");
        // A column's Chinese word carries its name in Chinese; English gives the name.
        let c = crate::msg!(
            "over_total",
            column = Arg::column("present"),
            value = 5u64,
            total = Arg::column("expected"),
            limit = 4u64
        );
        assert!(
            c.render(Lang::Zh).contains("实到"),
            "{}",
            c.render(Lang::Zh)
        );
        assert!(c.to_string().contains("present 5"), "{c}");
        // A key nobody wrote says so.
        let missing = Msg::new("no_such_key", vec![("v", Arg::from("x"))]);
        assert_eq!(missing.render(Lang::Zh), "⟨no_such_key⟩ v=x");
    }

    #[test]
    fn the_locale_chooses_the_language() {
        assert_eq!(Lang::of_locale(Some("en_US.UTF-8")), Lang::En);
        assert_eq!(Lang::of_locale(Some("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(Lang::of_locale(Some("C.UTF-8")), Lang::Zh);
        assert_eq!(Lang::of_locale(None), Lang::Zh);
    }
}
