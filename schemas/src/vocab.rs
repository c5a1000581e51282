//! Enum vocabularies: each canonical value with the words clerks and school systems use for it.

use crate::fold;

/// A closed set of values. Each entry is the canonical (stored) value and its aliases.
#[derive(Debug)]
pub struct Vocabulary {
    /// Short name used in the data dictionary.
    pub name: &'static str,
    /// `(canonical, aliases)`; the canonical value itself always matches too.
    pub values: &'static [(&'static str, &'static [&'static str])],
}

/// Two vocabularies are one when they have one name.
impl PartialEq for Vocabulary {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Vocabulary {
    /// The canonical value a written word stands for, matched case-insensitively (ASCII) after
    /// trimming spaces. This is on the hot path of every ingest, so it does not allocate.
    pub fn resolve(&self, word: &str) -> Option<&'static str> {
        let w = word.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        self.values.iter().find_map(|(canonical, aliases)| {
            (canonical.eq_ignore_ascii_case(w) || aliases.iter().any(|a| a.eq_ignore_ascii_case(w)))
                .then_some(*canonical)
        })
    }

    /// The canonical values, in order.
    pub fn canonical(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(c, _)| *c)
    }
}

pub static SCHOOL_TYPE: Vocabulary = Vocabulary {
    name: "school_type",
    values: &[
        ("primary", &["小学"]),
        ("junior", &["初中", "初级中学"]),
        ("senior", &["高中", "高级中学"]),
        ("nine_year", &["九年一贯制"]),
        ("complete_secondary", &["完全中学"]),
        ("kindergarten", &["幼儿园"]),
        ("training", &["培训机构", "教培机构"]),
        ("other", &["其他"]),
    ],
};

pub static GENDER: Vocabulary = Vocabulary {
    name: "gender",
    values: &[("M", &["男", "1", "male"]), ("F", &["女", "2", "female"])],
};

pub static ENROLMENT_STATUS: Vocabulary = Vocabulary {
    name: "enrolment_status",
    values: &[
        ("enrolled", &["在籍", "在读", "正常", "在校"]),
        ("transferred_out", &["转出"]),
        ("suspended", &["休学"]),
        ("graduated", &["毕业"]),
        ("withdrawn", &["退学", "辍学"]),
    ],
};

pub static ATTENDANCE_STATUS: Vocabulary = Vocabulary {
    name: "attendance_status",
    values: &[
        ("present", &["出勤", "到校", "正常", "在校"]),
        ("late", &["迟到"]),
        ("early_leave", &["早退"]),
        ("absent", &["缺勤", "旷课", "缺席", "未到"]),
        ("sick_leave", &["病假"]),
        ("personal_leave", &["事假"]),
    ],
};

pub static SYMPTOM: Vocabulary = Vocabulary {
    name: "symptom",
    values: &[
        ("fever", &["发热", "发烧"]),
        ("cough", &["咳嗽"]),
        ("sore_throat", &["咽痛", "咽喉痛"]),
        ("fatigue", &["乏力"]),
        ("diarrhea", &["腹泻"]),
        ("vomiting", &["呕吐"]),
        ("rash", &["皮疹"]),
        ("jaundice", &["黄疸"]),
        (
            "conjunctivitis",
            &["结膜充血", "红眼", "结膜充血/红眼", "红眼病"],
        ),
        ("parotitis", &["腮腺肿大", "腮腺肿大或疼痛", "腮腺肿痛"]),
        ("other", &["其他", "其他症状"]),
    ],
};

/// Words that mean "no symptoms" in a symptom list.
pub static NO_SYMPTOM: &[&str] = &["none", "无", "正常", "健康"];

/// Separators of a symptom list.
pub static LIST_SEPARATORS: &[char] = &[',', '，', ';', '；', '、', '/'];

/// The check session of a class report (晨午检): the day's first session gives its attendance.
pub static SESSION: Vocabulary = Vocabulary {
    name: "session",
    values: &[
        ("morning", &["晨检", "早检", "上午"]),
        ("noon", &["午检", "中午", "下午"]),
        ("evening", &["晚检", "晚上"]),
        ("day", &["全天", "全日", "日报"]),
    ],
};

pub static NOTICE_CATEGORY: Vocabulary = Vocabulary {
    name: "notice_category",
    values: &[
        ("safety", &["安全"]),
        ("epidemic", &["防疫", "疫情"]),
        ("holiday", &["放假"]),
        ("exam", &["考试"]),
        ("other", &["其他"]),
    ],
};

pub static RECIPIENT_ROLE: Vocabulary = Vocabulary {
    name: "recipient_role",
    values: &[
        ("parent", &["家长"]),
        ("teacher", &["教师", "老师"]),
        ("student", &["学生"]),
    ],
};

/// The issuer value that means the bureau itself (otherwise an issuer is a school code).
pub static ISSUER_BUREAU: &[&str] = &["bureau", "教育局"];

/// Boolean words, true then false.
pub static TRUE_WORDS: &[&str] = &["true", "1", "y", "yes", "是"];
pub static FALSE_WORDS: &[&str] = &["false", "0", "n", "no", "否"];

/// Headers of personal data that is never stored: their columns are dropped on read and the
/// ingest report names them. Matched only after a dataset's own columns, so a header that a
/// dataset maps (such as `手机号` as a pseudonymised `recipient_id`) is not dropped.
pub static PERSONAL_HEADERS: &[&str] = &[
    "姓名",
    "学生姓名",
    "家长姓名",
    "教师姓名",
    "手机",
    "手机号码",
    "电话",
    "联系电话",
    "家长电话",
    "身份证号",
    "身份证号码",
    "身份证",
    "住址",
    "家庭住址",
    "地址",
    "备注",
    "name",
    "student_name",
    "parent_name",
    "phone",
    "mobile",
    "telephone",
    "id_card",
    "id_number",
    "address",
    "notes",
    "remark",
    "remarks",
];

/// Whether a header names personal data that must be dropped.
pub fn is_personal_header(header: &str) -> bool {
    let h = fold(header);
    PERSONAL_HEADERS.iter().any(|p| fold(p) == h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_values_and_aliases_resolve_in_any_case() {
        assert_eq!(GENDER.resolve("M"), Some("M"));
        assert_eq!(GENDER.resolve("f"), Some("F"));
        assert_eq!(GENDER.resolve(" 男 "), Some("M"));
        assert_eq!(GENDER.resolve("Female"), Some("F"));
        assert_eq!(ATTENDANCE_STATUS.resolve("Sick_Leave"), Some("sick_leave"));
        assert_eq!(ATTENDANCE_STATUS.resolve("旷课"), Some("absent"));
        assert_eq!(SCHOOL_TYPE.resolve("初级中学"), Some("junior"));
        assert_eq!(GENDER.resolve("unknown"), None);
        assert!(is_personal_header("学生姓名"));
        assert!(is_personal_header(" Phone "));
        assert!(!is_personal_header("学号"));
    }
}
