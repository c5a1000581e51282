//! The six datasets of DATA.md.

use crate::dataset::{Column, Dataset, Kind, Required, Rule};
use crate::vocab::*;

const SCHOOL_CODE_ALIASES: &[&str] = &["学校代码", "学校标识码", "学校编号", "school_id"];
const STUDENT_ID_ALIASES: &[&str] = &["学籍号", "全国学籍号", "学生编号", "学号"];

const fn col(
    name: &'static str,
    kind: Kind,
    required: Required,
    aliases: &'static [&'static str],
) -> Column {
    Column {
        name,
        kind,
        required,
        aliases,
        rule: Rule::None,
        default: None,
        stored_as: None,
        doc: "",
    }
}

/// The school code of a data file: required, but an upload for one school may supply it.
const fn school_code_of_upload() -> Column {
    Column {
        rule: Rule::SchoolCode,
        doc: "may come from the upload's school (`--school`) instead",
        ..col(
            "school_code",
            Kind::Str,
            Required::FromUpload,
            SCHOOL_CODE_ALIASES,
        )
    }
}

const fn student_id() -> Column {
    Column {
        rule: Rule::Pseudonymised,
        doc: "pseudonymised (keyed hash) at ingest",
        ..col("student_id", Kind::Str, Required::Yes, STUDENT_ID_ALIASES)
    }
}

const fn event_date(aliases: &'static [&'static str]) -> Column {
    Column {
        doc: "within the bureau's date window (not in the future)",
        ..col("date", Kind::Date, Required::Yes, aliases)
    }
}

pub static SCHOOLS: Dataset = Dataset {
    name: "schools",
    chinese: "学校名录",
    sent_by: "the bureau",
    row_is: "one school or training institution",
    key: &["school_code"],
    partition_by: &[],
    columns: &[
        Column {
            rule: Rule::SchoolCode,
            doc: "1–20 letters or digits",
            ..col("school_code", Kind::Str, Required::Yes, SCHOOL_CODE_ALIASES)
        },
        col(
            "school_name",
            Kind::Str,
            Required::Yes,
            &["学校名称", "学校", "name"],
        ),
        col(
            "district",
            Kind::Str,
            Required::Yes,
            &["区县", "所属区县", "区域"],
        ),
        col(
            "school_type",
            Kind::Enum(&SCHOOL_TYPE),
            Required::Yes,
            &["学段", "办学类型", "学校类型", "type"],
        ),
        Column {
            rule: Rule::Range(-90.0, 90.0),
            doc: "-90..90",
            ..col("latitude", Kind::Float, Required::No, &["纬度", "lat"])
        },
        Column {
            rule: Rule::Range(-180.0, 180.0),
            doc: "-180..180",
            ..col(
                "longitude",
                Kind::Float,
                Required::No,
                &["经度", "lon", "lng"],
            )
        },
        Column {
            rule: Rule::Range(0.0, 1_000_000.0),
            doc: "≥ 0",
            ..col(
                "teacher_count",
                Kind::Int,
                Required::No,
                &["专任教师数", "教师数", "教职工数", "teachers"],
            )
        },
    ],
};

pub static ENROLMENT: Dataset = Dataset {
    name: "enrolment",
    chinese: "学籍名册",
    sent_by: "each school's data clerk",
    row_is: "one student on the school's roster as of a date",
    key: &["school_code", "as_of_date", "student_id"],
    partition_by: &[],
    columns: &[
        student_id(),
        school_code_of_upload(),
        Column {
            rule: Rule::Range(1.0, 12.0),
            doc: "1–12; also 一年级…六年级, 七年级/初一…九年级/初三, 高一…高三",
            ..col("grade", Kind::Grade, Required::Yes, &["年级"])
        },
        col(
            "class_code",
            Kind::Str,
            Required::Yes,
            &["班级", "班级代码", "班级编号", "class"],
        ),
        col(
            "gender",
            Kind::Enum(&GENDER),
            Required::Yes,
            &["性别", "sex"],
        ),
        Column {
            stored_as: Some("birth_year"),
            doc: "only the year is stored, as `birth_year`",
            ..col("birth_date", Kind::BirthYear, Required::No, &["出生日期"])
        },
        Column {
            default: Some("enrolled"),
            doc: "default `enrolled`",
            ..col(
                "status",
                Kind::Enum(&ENROLMENT_STATUS),
                Required::No,
                &["学籍状态", "在籍状态", "状态"],
            )
        },
        Column {
            doc: "may come from the upload (`--as-of`) instead; within the bureau's date window",
            ..col(
                "as_of_date",
                Kind::Date,
                Required::FromUpload,
                &["快照日期", "统计日期", "截止日期"],
            )
        },
    ],
};

pub static ATTENDANCE: Dataset = Dataset {
    name: "attendance",
    chinese: "考勤",
    sent_by: "school clerk, or pulled from the school's attendance system",
    row_is: "one student on one school day",
    key: &["date", "student_id"],
    partition_by: &["date"],
    columns: &[
        event_date(&["日期", "考勤日期"]),
        school_code_of_upload(),
        col(
            "class_code",
            Kind::Str,
            Required::Yes,
            &["班级", "班级代码", "班级编号", "class"],
        ),
        student_id(),
        col(
            "status",
            Kind::Enum(&ATTENDANCE_STATUS),
            Required::Yes,
            &["考勤状态", "出勤情况", "状态"],
        ),
    ],
};

pub static HEALTH_REPORT: Dataset = Dataset {
    name: "health_report",
    chinese: "健康打卡",
    sent_by: "pulled from the parents' daily check-in system",
    row_is: "one student's check-in for one day",
    key: &["date", "student_id"],
    partition_by: &["date"],
    columns: &[
        event_date(&["日期", "打卡日期", "填报日期"]),
        school_code_of_upload(),
        col(
            "class_code",
            Kind::Str,
            Required::No,
            &["班级", "班级代码", "class"],
        ),
        student_id(),
        Column {
            rule: Rule::Range(34.0, 43.0),
            doc: "34.0–43.0 °C",
            ..col(
                "temperature",
                Kind::Float,
                Required::No,
                &["体温", "体温(℃)", "体温(°c)", "temp"],
            )
        },
        Column {
            doc: "`none` 无/正常/健康 means an empty list",
            ..col(
                "symptoms",
                Kind::EnumList(&SYMPTOM),
                Required::No,
                &["症状", "健康状况"],
            )
        },
        col(
            "risk_contact",
            Kind::Bool,
            Required::No,
            &["是否接触风险人员", "风险接触", "是否去过中高风险地区"],
        ),
        col(
            "reported_at",
            Kind::Timestamp,
            Required::No,
            &["填报时间", "打卡时间"],
        ),
    ],
};

pub static NOTICES: Dataset = Dataset {
    name: "notices",
    chinese: "通知",
    sent_by: "the bureau or a school",
    row_is: "one notice",
    key: &["notice_id"],
    partition_by: &[],
    columns: &[
        col(
            "notice_id",
            Kind::Str,
            Required::Yes,
            &["通知编号", "通知ID"],
        ),
        Column {
            rule: Rule::Issuer,
            doc: "`bureau` (教育局) or a school code",
            ..col("issuer", Kind::Str, Required::Yes, &["发布单位", "发布者"])
        },
        col("title", Kind::Str, Required::Yes, &["标题", "通知标题"]),
        Column {
            default: Some("other"),
            doc: "default `other`",
            ..col(
                "category",
                Kind::Enum(&NOTICE_CATEGORY),
                Required::No,
                &["类别", "通知类型"],
            )
        },
        col(
            "published_at",
            Kind::Timestamp,
            Required::Yes,
            &["发布时间"],
        ),
    ],
};

pub static NOTICE_READS: Dataset = Dataset {
    name: "notice_reads",
    chinese: "阅读回执",
    sent_by: "pulled from the messaging system",
    row_is: "one notice delivered to one recipient",
    key: &["notice_id", "recipient_id"],
    partition_by: &[],
    columns: &[
        col(
            "notice_id",
            Kind::Str,
            Required::Yes,
            &["通知编号", "通知ID"],
        ),
        school_code_of_upload(),
        Column {
            rule: Rule::Pseudonymised,
            doc: "pseudonymised (a phone number is hashed like any id)",
            ..col(
                "recipient_id",
                Kind::Str,
                Required::Yes,
                &["接收人", "接收人账号", "家长账号", "手机号"],
            )
        },
        Column {
            default: Some("parent"),
            doc: "default `parent`",
            ..col(
                "recipient_role",
                Kind::Enum(&RECIPIENT_ROLE),
                Required::No,
                &["接收人类型", "身份"],
            )
        },
        col(
            "delivered_at",
            Kind::Timestamp,
            Required::Yes,
            &["送达时间", "发送时间"],
        ),
        Column {
            rule: Rule::NotBefore("delivered_at"),
            doc: "empty = unread; not before `delivered_at`",
            ..col(
                "read_at",
                Kind::Timestamp,
                Required::No,
                &["阅读时间", "已读时间", "查看时间"],
            )
        },
    ],
};

static ALL: [&Dataset; 6] = [
    &SCHOOLS,
    &ENROLMENT,
    &ATTENDANCE,
    &HEALTH_REPORT,
    &NOTICES,
    &NOTICE_READS,
];

/// Every dataset, in the order of DATA.md.
pub fn all() -> &'static [&'static Dataset] {
    &ALL
}

/// The dataset of that name.
pub fn by_name(name: &str) -> Option<&'static Dataset> {
    ALL.iter().copied().find(|d| d.name == name)
}

/// The dataset names, for messages that list the valid ones.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|d| d.name).collect()
}
