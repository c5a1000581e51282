//! The datasets of DATA.md and REPORTING.md, and the exception registers' table.

use crate::dataset::{Column, Dataset, Kind, Required, Rule};
use crate::vocab::*;

const SCHOOL_CODE_ALIASES: &[&str] = &["学校代码", "学校标识码", "学校编号", "school_id"];
const STUDENT_ID_ALIASES: &[&str] = &["学籍号", "全国学籍号", "国家学籍号", "学生编号"];
/// School-local ids (REPORTING.md): unique only within a school.
const LOCAL_ID_ALIASES: &[&str] = &[
    "校内学号",
    "学号",
    "学籍辅号",
    "工号",
    "用户ID",
    "UserId",
    "用户编号",
    "账号",
    "教育ID",
];

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

/// The notice a receipt or a read statistic is about.
const fn notice_of_reads() -> Column {
    col(
        "notice_id",
        Kind::Str,
        Required::Yes,
        &["通知编号", "通知ID"],
    )
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

/// The national id (学籍号), or — when a row has only a local id — that local id's
/// pseudonym, which the roster resolves to the national one at read/build time.
const fn student_id() -> Column {
    Column {
        rule: Rule::Pseudonymised,
        doc: "national id (学籍号), pseudonymised (keyed hash) at ingest; several national-id \
              columns must agree; †a row with only a local id stores the local id's pseudonym \
              here, resolved through the school's roster when reading",
        ..col(
            "student_id",
            Kind::Str,
            Required::Unless("local_id"),
            STUDENT_ID_ALIASES,
        )
    }
}

/// A school-local id (校内学号, 学籍辅号, UserId…), pseudonymised with the school code. On a
/// roster row beside a national id it links the two (the crosswalk).
const fn local_id() -> Column {
    Column {
        rule: Rule::LocalId,
        doc: "school-local id, pseudonymised together with the school code; on a roster beside \
              `student_id` it links the two (latest roster wins); with several local-id columns \
              the first filled one (a roster keeps the others in `other_local_ids`)",
        ..col("local_id", Kind::Str, Required::No, LOCAL_ID_ALIASES)
    }
}

const fn event_date(aliases: &'static [&'static str]) -> Column {
    Column {
        doc: "within the bureau's date window (not in the future); or from the upload \
              (`--date`), a title row (`日期：2026-11-18`) or the file name",
        ..col("date", Kind::Date, Required::FromUpload, aliases)
    }
}

const CLASS_ALIASES: &[&str] = &["班级", "班级代码", "班级编号", "班级名称", "班别", "class"];

/// A class, normalised where it names a grade and a class (`七年级(1)班`, `初一1班`, `7-1`, or
/// `1班` beside a grade column all give `7-1`); other codes kept as sent.
const fn class_code(required: Required) -> Column {
    Column {
        rule: Rule::ClassName,
        doc: "`七年级(1)班`, `初一1班`, `7年级1班`, `7-1` and `1班` beside a grade are all `7-1`",
        ..col("class_code", Kind::Str, required, CLASS_ALIASES)
    }
}

/// A count of people in a class report, at most the class's `expected`.
const fn class_count(
    name: &'static str,
    aliases: &'static [&'static str],
    of: &'static str,
    doc: &'static str,
) -> Column {
    Column {
        rule: Rule::AtMost(of),
        doc,
        ..col(name, Kind::Int, Required::No, aliases)
    }
}

pub static SCHOOLS: Dataset = Dataset {
    name: "schools",
    chinese: "学校名录",
    sent_by: "the bureau",
    row_is: "one school or training institution",
    key: &["school_code"],
    partition_by: &[],
    coverage_rows: false,
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
    coverage_rows: false,
    columns: &[
        student_id(),
        local_id(),
        Column {
            rule: Rule::MoreLocalIds,
            doc: "the row's further local ids (学籍辅号 beside 校内学号, UserId beside 工号…), each \
                  pseudonymised like `local_id`, separated by spaces; each names the same \
                  student, so each links to `student_id` as `local_id` does",
            ..col("other_local_ids", Kind::Str, Required::No, &[])
        },
        school_code_of_upload(),
        Column {
            rule: Rule::Range(1.0, 12.0),
            doc: "1–12; also 一年级…六年级, 七年级/初一…九年级/初三, 高一…高三, or a cohort (初2025级, 高2024级, 2025级: the year of entry) as of the row's date",
            ..col("grade", Kind::Grade, Required::Yes, &["年级"])
        },
        class_code(Required::Yes),
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
                &["学籍状态", "在籍状态", "学生状态", "状态"],
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
    coverage_rows: false,
    columns: &[
        event_date(&["日期", "考勤日期"]),
        school_code_of_upload(),
        class_code(Required::Yes),
        student_id(),
        local_id(),
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
    coverage_rows: false,
    columns: &[
        event_date(&["日期", "打卡日期", "填报日期"]),
        school_code_of_upload(),
        class_code(Required::No),
        student_id(),
        local_id(),
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
    coverage_rows: false,
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
    coverage_rows: false,
    columns: &[
        notice_of_reads(),
        school_code_of_upload(),
        Column {
            rule: Rule::Pseudonymised,
            doc: "pseudonymised (a phone number is hashed like any id); †a receipt with only a \
                  messaging account stores the account's pseudonym here",
            ..col(
                "recipient_id",
                Kind::Str,
                Required::Unless("local_id"),
                &["接收人", "手机号", "接收人手机号", "家长手机号"],
            )
        },
        Column {
            rule: Rule::LocalId,
            doc: "the recipient's messaging account (账号, UserId: unique only within a school), \
                  pseudonymised together with the school code",
            ..col(
                "local_id",
                Kind::Str,
                Required::No,
                &[
                    "接收人账号",
                    "家长账号",
                    "账号",
                    "用户ID",
                    "UserId",
                    "用户编号",
                ],
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
        Column {
            doc: "empty: taken as delivered when the notice was published (`published_at`)",
            ..col(
                "delivered_at",
                Kind::Timestamp,
                Required::No,
                &["送达时间", "发送时间"],
            )
        },
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

/// Read statistics per notice (INDICATORS.md): what a messaging platform shows when it keeps
/// no receipt per recipient — how many received a notice and how many read it, per school or
/// per class. They count in `notice_read_rate` only where no receipts of that notice and
/// school exist.
pub static NOTICE_READ_COUNTS: Dataset = Dataset {
    name: "notice_read_counts",
    chinese: "阅读统计",
    sent_by: "pulled from the messaging system, or its statistics page exported by a clerk",
    row_is: "one notice's recipients and readers in one school (or, with a class, one class)",
    key: &["notice_id", "school_code", "class_code"],
    partition_by: &[],
    coverage_rows: false,
    columns: &[
        notice_of_reads(),
        school_code_of_upload(),
        Column {
            default: Some(""),
            doc: "empty = the whole school; where a school has rows by class, they are its \
                  counts and its whole-school row is not added to them",
            ..class_code(Required::No)
        },
        Column {
            rule: Rule::Range(0.0, 10_000_000.0),
            doc: "≥ 0: the recipients the notice was sent to",
            ..col(
                "recipients",
                Kind::Int,
                Required::Yes,
                &[
                    "接收人数",
                    "应读人数",
                    "应收人数",
                    "发送人数",
                    "通知人数",
                    "总人数",
                ],
            )
        },
        Column {
            rule: Rule::Remainder {
                total: "recipients",
                part: "unread",
            },
            doc: "or derived as recipients − unread; read + unread = recipients when both are \
                  given",
            ..col(
                "read_count",
                Kind::Int,
                Required::No,
                &["已读人数", "已读", "已查看人数", "阅读人数"],
            )
        },
        Column {
            rule: Rule::AtMost("recipients"),
            doc: "≤ recipients",
            ..col("unread", Kind::Int, Required::No, &["未读人数", "未读"])
        },
    ],
};

pub static CLASS_REPORT: Dataset = Dataset {
    name: "class_report",
    chinese: "班级日报",
    sent_by: "each class or school (晨午检日报, 因病缺课日报, school daily figures)",
    row_is:
        "one class's (or, with no class, the whole school's) counts for one day and check session",
    key: &["date", "school_code", "class_code", "session"],
    partition_by: &["date"],
    coverage_rows: false,
    columns: &[
        event_date(&["日期", "检查日期", "填报日期", "统计日期", "上报日期"]),
        school_code_of_upload(),
        Column {
            default: Some(""),
            doc: "empty = a report for the whole school; otherwise normalised like every class \
                  (`七年级(1)班` → `7-1`)",
            ..class_code(Required::No)
        },
        Column {
            rule: Rule::Range(1.0, 12.0),
            doc: "1–12, grade words as in `enrolment`",
            ..col("grade", Kind::Grade, Required::No, &["年级", "级部"])
        },
        Column {
            default: Some("day"),
            doc: "`morning` 晨检 · `noon` 午检 · `evening` 晚检 · `day` 全天 (default)",
            ..col(
                "session",
                Kind::Enum(&SESSION),
                Required::No,
                &["时段", "检查时段", "晨午晚检情况", "晨午检"],
            )
        },
        Column {
            rule: Rule::Range(0.0, 100_000.0),
            doc: "≥ 0",
            ..col(
                "expected",
                Kind::Int,
                Required::Yes,
                &["应到", "应到人数", "应到学生人数", "班级人数"],
            )
        },
        Column {
            rule: Rule::Remainder {
                total: "expected",
                part: "absent",
            },
            doc: "or derived as expected − absent; present + absent = expected when both are given",
            ..col(
                "present",
                Kind::Int,
                Required::No,
                &["实到", "实到人数", "实到学生人数", "出勤人数"],
            )
        },
        class_count(
            "absent",
            &["缺勤", "缺课", "缺勤人数", "缺课人数", "缺勤学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "sick_absent",
            &[
                "因病缺课",
                "因病缺勤",
                "因病缺课人数",
                "因病缺勤人数",
                "因病缺课学生人数",
                "病假",
                "病假人数",
            ],
            "absent",
            "≤ absent",
        ),
        class_count(
            "personal_absent",
            &["事假", "事假人数", "因事缺课", "因事缺课人数"],
            "absent",
            "≤ absent",
        ),
        class_count("late", &["迟到", "迟到人数"], "present", "≤ present"),
        class_count(
            "fever",
            &["发热", "发热人数", "发热学生人数", "发烧", "发烧人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "cough",
            &["咳嗽", "咳嗽人数", "咳嗽学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "sore_throat",
            &["咽痛", "咽痛人数", "咽痛学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "fatigue",
            &["乏力", "乏力人数", "乏力学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "diarrhea",
            &["腹泻", "腹泻人数", "腹泻学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "vomiting",
            &["呕吐", "呕吐人数", "呕吐学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "rash",
            &["皮疹", "皮疹人数", "皮疹学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "jaundice",
            &["黄疸", "黄疸人数", "黄疸学生人数"],
            "expected",
            "≤ expected",
        ),
        class_count(
            "conjunctivitis",
            &[
                "结膜充血",
                "红眼",
                "结膜充血/红眼",
                "结膜充血(红眼)",
                "结膜充血人数",
                "红眼人数",
                "结膜充血学生人数",
            ],
            "expected",
            "≤ expected",
        ),
        class_count(
            "parotitis",
            &[
                "腮腺肿大",
                "腮腺肿大(或疼痛)",
                "腮腺肿大或疼痛",
                "腮腺肿大人数",
                "腮腺肿大学生人数",
            ],
            "expected",
            "≤ expected",
        ),
        class_count(
            "other",
            &[
                "其他",
                "其他症状",
                "其他人数",
                "其他症状人数",
                "其他学生人数",
                "其他症状学生人数",
            ],
            "expected",
            "≤ expected",
        ),
    ],
};

/// The symptom columns of a class report, in the order of the symptom vocabulary.
pub const CLASS_REPORT_SYMPTOMS: &[&str] = &[
    "fever",
    "cough",
    "sore_throat",
    "fatigue",
    "diarrhea",
    "vomiting",
    "rash",
    "jaundice",
    "conjunctivitis",
    "parotitis",
    "other",
];

/// An exception register as the lake keeps it (`ingest --dataset attendance --exceptions`):
/// the students listed (not present that day), and one row without a student for each
/// (school, class, date) the register covers — every student of the roster in force in a
/// covered class who is not listed was present. The present rows are derived when reading, so a
/// roster ingested later corrects them.
pub static ATTENDANCE_EXCEPTIONS: Dataset = Dataset {
    name: "attendance_exceptions",
    chinese: "缺勤登记",
    sent_by: "school clerk: only the students not present (缺勤登记, 因病缺课追踪记录表)",
    row_is: "one student not present on one day, or (no student) a class-day the register covers",
    key: &["date", "student_id"],
    partition_by: &["date"],
    coverage_rows: true,
    columns: &[
        event_date(&[
            "日期",
            "缺勤日期",
            "考勤日期",
            "请假日期",
            "检查日期",
            "填报日期",
        ]),
        school_code_of_upload(),
        Column {
            doc: "the class the student is in (or `--class` for the whole register); empty on a \
                  coverage row = the whole school",
            ..class_code(Required::No)
        },
        student_id(),
        local_id(),
        Column {
            default: Some("absent"),
            doc: "default `absent`; `late` and `early_leave` count as attended",
            ..col(
                "status",
                Kind::Enum(&ATTENDANCE_STATUS),
                Required::No,
                &[
                    "考勤状态",
                    "出勤情况",
                    "状态",
                    "缺勤类型",
                    "缺勤原因",
                    "请假类型",
                    "缺课原因",
                ],
            )
        },
        Column {
            doc: "a leave approval's first day (a time gives its day); with `leave_end` the row \
                  stands for every school day of the span up to today (the weekdays on which \
                  the school reports attendance in another shape), and `date` may be left out; \
                  on a row without a student, the day it covers only as a day of a span",
            ..col(
                "leave_start",
                Kind::Date,
                Required::No,
                &["请假开始时间", "请假开始日期", "开始时间", "开始日期"],
            )
        },
        Column {
            rule: Rule::NotBefore("leave_start"),
            doc: "a leave approval's last day; not before `leave_start`",
            ..col(
                "leave_end",
                Kind::Date,
                Required::No,
                &["请假结束时间", "请假结束日期", "结束时间", "结束日期"],
            )
        },
    ],
};

static ALL: [&Dataset; 8] = [
    &SCHOOLS,
    &ENROLMENT,
    &ATTENDANCE,
    &HEALTH_REPORT,
    &NOTICES,
    &NOTICE_READS,
    &NOTICE_READ_COUNTS,
    &CLASS_REPORT,
];

/// Every table a batch is ingested into: the datasets, and an exception register's.
static STORED: std::sync::LazyLock<Vec<&'static Dataset>> = std::sync::LazyLock::new(|| {
    ALL.iter()
        .copied()
        .chain([&ATTENDANCE_EXCEPTIONS])
        .collect()
});

/// Every raw table of the lake: the datasets, then the tables that keep other shapes of a
/// dataset (an exception register of attendance).
pub fn stored() -> &'static [&'static Dataset] {
    &STORED
}

/// The raw table of that name, a dataset or another shape's.
pub fn stored_by_name(name: &str) -> Option<&'static Dataset> {
    STORED.iter().copied().find(|d| d.name == name)
}

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
