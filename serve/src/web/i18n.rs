//! Every word of the cockpit in Chinese (the default) and English.

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
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
}

/// (key, Chinese, English).
static TEXTS: &[(&str, &str, &str)] = &[
    ("brand", "教育数据驾驶舱", "Education cockpit"),
    ("switch_lang", "English", "中文"),
    ("nav_overview", "总览", "Overview"),
    ("nav_notices", "通知查阅", "Notices"),
    ("nav_reporting", "上报情况", "Reporting"),
    ("page_reporting", "上报情况", "Reporting"),
    ("reporting_hint", "各班是否上报考勤（零报告也算上报）、报告中的学生占在籍学生的比例、健康打卡率，逐日；以及最后一天需要催报的学校和班级。", "Whether each class reported attendance (a zero report counts), the share of enrolled students in the reports and the health check-in rate, day by day; then whom to remind on the last day."),
    ("trend_student_reporting", "学生考勤上报率（逐日）", "Students in the attendance reports, day by day"),
    ("reporting_compared", "班级上报率比较（由低到高）", "Class reporting compared, lowest first"),
    ("nav_data", "数据报送", "Data received"),
    ("from", "从", "From"),
    ("to", "至", "to"),
    ("apply", "查询", "Apply"),
    ("latest_day", "最新日期", "Latest day"),
    ("vs_week_before", "较上周同日", "vs. a week before"),
    ("kpi_reporting", "今日报送学校", "Schools reporting"),
    ("kpi_attendance", "出勤率", "Attendance rate"),
    ("kpi_health", "健康打卡率", "Health check-in rate"),
    ("kpi_fever", "发热人数", "Fever reports"),
    ("kpi_alerts", "聚集性预警", "Cluster alerts"),
    ("kpi_notices", "通知查阅率", "Notice read rate"),
    ("trend_attendance", "出勤率（逐日）", "Attendance rate, day by day"),
    ("trend_health", "健康打卡率（逐日）", "Health check-in rate, day by day"),
    ("trend_fever", "发热人数（逐日）", "Fever reports, day by day"),
    ("trend_class_reporting", "班级上报（逐日）", "Class reporting, day by day"),
    ("by_district", "各区县出勤率（由低到高）", "Attendance rate by district, lowest first"),
    ("by_school", "各学校出勤率（由低到高）", "Attendance rate by school, lowest first"),
    ("missing", "今日未报送学校（催报）", "Schools that have not reported today"),
    ("missing_none", "所有学校均已报送。", "Every school has reported."),
    ("alerts", "聚集性预警与因病缺课追踪", "Cluster alerts and sick-leave follow-ups"),
    ("alerts_none", "所选时间内没有预警。", "No alerts in this period."),
    ("map", "学校分布图（按出勤率着色）", "Schools on the map, coloured by attendance rate"),
    ("map_none", "没有学校坐标。", "No school has coordinates."),
    ("download_csv", "下载 CSV", "Download CSV"),
    ("download_xlsx", "下载 Excel", "Download Excel"),
    ("district", "区县", "District"),
    ("school", "学校", "School"),
    ("school_code", "学校代码", "School code"),
    ("class", "班级", "Class"),
    ("date", "日期", "Date"),
    ("count", "人数", "Students"),
    ("value", "数值", "Value"),
    ("numerator", "分子", "Numerator"),
    ("denominator", "分母", "Denominator"),
    ("period", "时段", "Period"),
    ("no_data", "所选时间内没有数据。", "No data in this period."),
    ("classes", "各班出勤（由低到高）", "Attendance by class, lowest first"),
    ("enrolment_grade", "在籍学生（按年级）", "Enrolled students by grade"),
    ("enrolment_gender", "在籍学生（按性别）", "Enrolled students by gender"),
    ("grade", "年级", "Grade"),
    ("gender", "性别", "Gender"),
    ("gender_M", "男", "Male"),
    ("gender_F", "女", "Female"),
    ("pupil_teacher_ratio", "生师比", "Pupil-teacher ratio"),
    ("chronic_absence", "长期缺勤率", "Chronic absence rate"),
    ("notice_reads", "各通知查阅率", "Read rate of each notice"),
    ("notice", "通知", "Notice"),
    ("read_rate", "查阅率", "Read rate"),
    ("read_24h_rate", "24小时查阅率", "Read within 24 h"),
    ("median_hours", "查阅时长中位数（小时）", "Median hours to read"),
    ("back_to_bureau", "返回全局", "Back to the bureau"),
    ("not_found", "找不到这个页面。", "There is no such page."),
    ("bad_request", "请求有误", "Bad request"),
    ("forbidden", "拒绝访问", "Forbidden"),
    ("download_too_big", "这份下载太大：请选更粗的粒度、更高的层级或更短的时间段（命令 edulake export 可导出任意大小）", "This download is too big: choose a coarser grain, a higher level or a shorter range (the command edulake export writes any size)"),
    ("upload_too_slow", "上传太慢，已停止接收。请在网络较好时重试。", "The upload came too slowly and was stopped; try again on a better connection."),
    ("upload_busy", "正在接收其他上传，请稍后再试。", "Other uploads are being received; try again shortly."),
    ("forbidden_host", "这个地址不是驾驶舱的地址。请用管理员给出的地址打开（管理员可在 EDULAKE_ALLOWED_HOSTS 中加入其他名称）。", "This address is not the cockpit's. Open it at the address your administrator gave (they can add names in EDULAKE_ALLOWED_HOSTS)."),
    ("forbidden_role", "您的账户没有查看此页面的权限。", "Your account may not open this page."),
    ("forbidden_scope", "这所学校或区县不在您的账户范围内。", "This school or district is outside your account's scope."),
    ("forbidden_csrf", "表单已过期或不是从本页提交的，请刷新页面后重试。", "The form has expired or was sent by another page; reload the page and try again."),
    ("sign_in_needed", "请先登录。", "Please sign in first."),
    ("sign_in", "登录", "Sign in"),
    ("sign_out", "退出登录", "Sign out"),
    ("login_name", "账号", "Login"),
    ("password", "密码", "Password"),
    ("sign_in_refused", "账号或密码不正确，或账户已停用。", "Wrong login or password, or the account is disabled."),
    ("sign_in_throttled", "登录失败次数过多，请稍后再试（约 {} 分钟）。", "Too many failed sign-ins; try again later (in about {} minutes)."),
    ("nav_account", "账户", "Account"),
    ("account_title", "我的账户", "My account"),
    ("role", "角色", "Role"),
    ("scope", "范围", "Scope"),
    ("role_bureau_admin", "教育局管理员", "Bureau administrator"),
    ("role_bureau_analyst", "教育局分析员", "Bureau analyst"),
    ("role_district_officer", "区县教育干部", "District officer"),
    ("role_school_clerk", "学校数据员", "School data clerk"),
    ("role_researcher", "研究人员", "Researcher"),
    ("scope_bureau", "全市", "The whole bureau"),
    ("local_mode", "尚未创建账户：本机上的任何人都能看到全部数据。用 edulake users add 创建管理员账户后，驾驶舱将要求登录。", "No accounts yet: anyone on this computer sees everything. Once an administrator account is created with edulake users add, the cockpit asks everyone to sign in."),
    ("nav_audit", "审计日志", "Audit log"),
    ("audit_at", "时间", "When"),
    ("audit_login", "账号", "Login"),
    ("audit_action", "操作", "Action"),
    ("audit_target", "对象", "What"),
    ("audit_address", "地址", "Address"),
    ("audit_outcome", "结果", "Outcome"),
    ("filter", "筛选", "Filter"),
    ("sql_title", "用 SQL 查询", "Query with SQL"),
    ("sql_hint", "只读查询；结果以 CSV 或 JSON 下载。可查询的表：", "Read-only queries; the answer downloads as CSV or JSON. Tables you may query:"),
    ("sql_run", "查询并下载", "Run and download"),
    ("users_title", "账户管理", "Accounts"),
    ("users_state", "状态", "State"),
    ("users_active", "启用", "Active"),
    ("users_disabled", "已停用", "Disabled"),
    ("users_disable", "停用", "Disable"),
    ("users_reset", "重设密码", "New password"),
    ("users_add", "新建账户", "Add an account"),
    ("users_scope_hint", "学校代码或区县（按角色）", "School code or district (as the role needs)"),
    ("users_rows", "可查询逐生记录（仅研究人员）", "May query rows per student (researchers only)"),
    ("users_password_once", "{} 的密码（只显示这一次）：", "Password of {} (shown this once):"),
    ("users_not_self", "不能停用自己的账户。", "You cannot disable your own account."),
    ("users_done", "已完成。", "Done."),
    ("forbidden_origin", "表单只能从驾驶舱自己的页面提交。", "Forms are accepted only when sent by the cockpit's own pages."),
    ("server_error", "服务器出错，请稍后再试。", "Something went wrong on the server; try again shortly."),
    ("empty_lake", "数据湖中还没有数据。请先上传或导入数据。", "The lake holds no data yet: ingest some extracts first."),
    ("lowest_schools", "出勤率最低的10所学校", "The 10 schools with the lowest attendance"),
    ("map_grey", "颜色由红到绿表示出勤率由低到高，灰色表示未上报。点击学校查看详情。", "Red to green: lowest to highest attendance; grey: not reported. Choose a school to see it."),
    ("axis_percent", "百分比（%）", "percent (%)"),
    ("level_bureau", "全局", "whole bureau"),
    ("level_district", "按区县", "by district"),
    ("level_school", "按学校", "by school"),
    ("level_class", "按班级", "by class"),
    ("grain_day", "逐日", "by day"),
    ("grain_week", "逐周", "by week"),
    ("grain_month", "逐月", "by month"),
    ("grain_total", "合计", "whole range"),
    ("lowest_n", "最低的{n}个", "the {n} lowest"),
    ("sheet_batches", "报送批次", "Batches"),
    ("sheet_missing", "未报送学校", "Not reported"),
    ("axis_people", "人数", "people"),
    ("axis_schools", "学校数", "schools"),
    ("trend_schools_reporting", "上报学校数（逐日）", "Schools reporting, day by day"),
    ("axis_date", "日期", "date"),
    ("axis_from", "刻度从 {x} 起（未从 0 开始）", "the scale starts at {x}, not 0"),
    ("not_reported", "未上报", "not reported"),
    ("last_7", "近7天", "Last 7 days"),
    ("last_30", "近30天", "Last 30 days"),
    ("last_90", "近90天", "Last 90 days"),
    (
        "small_cells_note",
        "“—”：为保护学生隐私，人数或分母为1–9的数据不显示，能据以推算出它们的数据也不显示。时间按整月和单日判断：所选日期含某天被隐藏的数据时，不是整月的合计也不显示。",
        "“—”: to protect pupils' privacy, figures whose count or denominator is 1–9 are not shown, nor figures that would let them be worked out. Time is judged by whole months and single days: a total that is not whole months is not shown if a day it covers is hidden.",
    ),
    ("nav_upload", "数据上传", "Upload"),
    ("receipts", "送达人数", "Receipts"),
    ("notices_all", "各通知查阅情况", "Every notice"),
    ("notices_hint", "点击通知标题，查看各学校的查阅情况。", "Choose a notice to see its read rate in each school."),
    ("notices_back", "← 返回全部通知", "← All notices"),
    ("notice_by_school", "各学校查阅情况（查阅率由低到高）", "By school, lowest read rate first"),
    ("ds_attendance", "考勤", "Attendance"),
    ("ds_health_report", "健康打卡", "Health check-ins"),
    ("ds_class_report", "班级日报（晨午检）", "Class daily reports"),
    ("alert_kind", "类型", "Kind"),
    ("kpi_class_reporting", "班级上报率", "Classes reported"),
    ("classes_missing", "未上报班级", "Classes not reported"),
    ("classes_missing_none", "各班均已上报", "Every class reported"),
    ("symptom_cases", "症状人次", "Symptom cases"),
    ("symptom", "症状", "Symptom"),
    ("symptom_fever", "发热", "Fever"),
    ("symptom_cough", "咳嗽", "Cough"),
    ("symptom_sore_throat", "咽痛", "Sore throat"),
    ("symptom_fatigue", "乏力", "Fatigue"),
    ("symptom_diarrhea", "腹泻", "Diarrhoea"),
    ("symptom_vomiting", "呕吐", "Vomiting"),
    ("symptom_rash", "皮疹", "Rash"),
    ("symptom_jaundice", "黄疸", "Jaundice"),
    ("symptom_conjunctivitis", "结膜充血/红眼", "Conjunctivitis"),
    ("symptom_parotitis", "腮腺肿大", "Swollen parotid"),
    ("symptom_other", "其他", "Other"),
    ("alert_cluster", "聚集性预警", "Cluster"),
    ("alert_follow_up", "因病缺课追踪", "Sick 3 days running"),
    ("ds_attendance_exceptions", "缺勤登记", "Absence registers"),
    ("ds_attendance_any", "考勤（任一方式）", "Attendance (any shape)"),
    (
        "upload_no_roster",
        "学校 {school} 在 {day} 没有生效的学籍名册：缺勤登记中未列出的学生暂不能计为出勤，请先上传该校名册。",
        "School {school} has no roster in force on {day}: the students the register does not list cannot be counted as present until its roster is uploaded.",
    ),
    ("ds_enrolment", "学籍名册", "Enrolment roster"),
    ("ds_notice_reads", "通知回执", "Notice receipts"),
    ("ds_notice_read_counts", "阅读统计（每班或每校人数）", "Read statistics (counts per class or school)"),
    ("ds_schools", "学校名录", "School registry"),
    ("ds_notices", "通知", "Notices"),
    ("freshness", "各校最新报送日期", "Latest date received from each school"),
    ("freshness_hint", "红色日期表示考勤或健康打卡已超过一天未报送；最久未报送的学校排在最前。", "A date in red: attendance or health check-ins more than a day old. The schools that sent least recently come first."),
    ("up_to", "截至", "up to"),
    ("batches", "已接收的批次", "Batches received"),
    ("shapes", "各校各日的报送形式", "How each school reported, by day"),
    ("shapes_hint", "每个班级每天只按一种形式计：逐人记录（含缺勤登记推算）优先，其次班级日报，最后学校日报。数字为班级天数。", "Each class-day counts once, from the finest shape held: per-student rows (including those an absence register implies), then a class report, then the school's own report. The numbers are class-days."),
    ("shapes_none", "所选日期内没有考勤数据。", "No attendance in the dates chosen."),
    ("shape_rows", "逐人记录", "Per-student rows"),
    ("shape_register", "缺勤登记", "Absence register"),
    ("shape_class_report", "班级日报", "Class report"),
    ("shape_school_report", "学校日报", "School report"),
    ("batches_none", "还没有接收任何批次。", "No batch has been received."),
    ("batches_shown", "显示最近的：", "Showing the latest:"),
    ("ingested_at", "接收时间（UTC）", "Received (UTC)"),
    ("dataset", "数据类型", "Dataset"),
    ("source_file", "文件", "File"),
    ("rows_read", "读取行数", "Rows read"),
    ("rows_stored", "入库行数", "Rows stored"),
    ("rows_rejected", "拒收行数", "Rows rejected"),
    ("reject_report", "拒收报告", "Reject report"),
    ("upload_dataset", "数据类型", "Dataset"),
    ("upload_school", "学校代码", "School code"),
    ("upload_school_hint", "文件中没有学校代码列时填写", "If the file has no school code column"),
    ("upload_as_of", "名册日期", "Roster as of"),
    ("upload_date", "日期（文件中无日期列时）", "Date (when the file has no date column)"),
    ("upload_class", "班级（整个文件属于一个班时）", "Class (when the whole file is one class)"),
    (
        "upload_exceptions",
        "只列出缺勤学生（缺勤登记）：名册上未列出的学生视为出勤",
        "Lists only the students not present (absence register): everyone else on the roster was present",
    ),
    (
        "upload_exceptions_not_attendance",
        "“只列出缺勤学生”只适用于考勤",
        "\"Lists only the students not present\" is for attendance only",
    ),
    ("upload_files", "选择文件，或将文件拖到这里（CSV 或 Excel，可多选）", "Choose files or drop them here (CSV or Excel, several at once)"),
    ("upload_submit", "上传", "Upload"),
    ("upload_hint", "每个文件作为一个批次入库；姓名、身份证号等个人信息在入库前即被假名化或丢弃。同一文件重复上传不会重复入库。", "Each file is stored as one batch; names, ID numbers and other personal data are pseudonymised or dropped before anything is stored. A file uploaded twice is stored once."),
    ("upload_broken", "上传的表单不完整", "The upload was cut short"),
    ("upload_no_dataset", "请选择数据类型。", "Choose a dataset."),
    ("upload_no_files", "请选择要上传的文件。", "Choose the files to upload."),
    ("upload_results", "上传结果", "What became of each file"),
    ("upload_refresh", "驾驶舱将在几秒钟内显示新数据。", "The cockpit shows the new data within seconds."),
    ("upload_result", "结果", "Result"),
    ("upload_stored", "已入库", "Stored"),
    ("upload_partly", "部分入库：{n} 行被拒收", "Partly stored: {n} rows rejected"),
    ("upload_count_stored", "{n} 个文件全部入库", "{n} file(s) stored whole"),
    ("upload_count_partly", "{n} 个文件部分行被拒收（请看拒收报告，改正后重新上传这些行）", "{n} file(s) with rows rejected (see the reject report; send those rows again once corrected)"),
    ("upload_count_rejected", "{n} 个文件整个被拒收，未入库", "{n} file(s) rejected whole, nothing stored"),
    ("upload_count_already", "{n} 个文件之前已上传过", "{n} file(s) already sent before"),
    ("upload_details", "每个文件的详情", "Each file in detail"),
    ("templates", "模板下载", "Templates"),
    ("page_of", "第 {page} / {pages} 页，共 {n} 个批次（时间为本地时间）", "Page {page} of {pages}, {n} batches (local times)"),
    ("page_previous", "上一页", "Previous"),
    ("page_next", "下一页", "Next"),
    ("templates_hint", "不知道文件该怎么写？下载模板，按示例行填写后上传（表头可保留中文）。", "Not sure how to lay out a file? Download a template, fill it in like its example row and upload it (the Chinese headers can stay)."),
    ("template_attendance", "考勤（每名学生一行）", "Attendance (a row per student)"),
    ("template_attendance_absences", "缺勤登记（只列缺勤学生，上传时勾选“只列出缺勤学生”）", "Absence register (absent students only; tick the absences box when uploading)"),
    ("template_class_report", "班级日报（晨午检人数）", "Class report (counts per class)"),
    ("template_health_report", "健康打卡（每名学生一行）", "Health check-in (a row per student)"),
    ("template_enrolment", "学籍名册", "Roster"),
    ("template_notice_reads", "通知阅读回执", "Notice receipts"),
    ("template_notice_read_counts", "通知阅读统计（按班）", "Notice read counts (per class)"),
    ("upload_already", "已上传过，未重复入库", "Already ingested; nothing changed"),
    ("upload_previewed", "预览：未入库", "Preview: nothing stored"),
    ("upload_preview", "预览（暂不入库）", "Preview (store nothing yet)"),
    ("upload_profile", "导出格式（平台）", "Export of which platform"),
    ("upload_profile_auto", "按表头自动识别", "Tell from its headers"),
    ("upload_profile_unknown", "没有这个导出格式", "No such export profile"),
    ("upload_profile_other", "所选导出格式“{profile}”属于“{dataset}”，与所选数据类型不符。", "The export chosen, “{profile}”, is a “{dataset}” file, not of the dataset chosen."),
    ("upload_profile_chosen", "上传时选定", "chosen on the upload page"),
    ("upload_store_now", "直接入库", "Store now"),
    ("preview_title", "入库前预览", "Preview before storing"),
    ("preview_intro", "以下是每个文件入库后的样子。确认之前，没有任何数据被保存。", "This is what each file would become. Nothing is stored until you confirm."),
    ("preview_confirm", "确认入库", "Store these files"),
    ("preview_cancel", "取消，不入库", "Cancel, store nothing"),
    ("preview_cancelled", "已取消：这些文件没有入库，已被删除。", "Cancelled: nothing was stored, and the files were deleted."),
    ("preview_expired", "这次预览已过期或已处理，请重新上传文件。", "This preview has expired or was already used; upload the files again."),
    ("preview_format", "文件格式", "Format"),
    ("preview_profile", "识别为", "Read as"),
    ("preview_no_profile", "没有匹配的导出模板：按数据集的列名读取", "No export profile matched: read by the dataset's own column names"),
    ("preview_shape", "数据形态", "Shape"),
    ("preview_counts", "共 {read} 行：将入库 {stored} 行，拒收 {rejected} 行", "{read} rows: {stored} would be stored, {rejected} rejected"),
    ("preview_date", "日期来源", "Date from"),
    ("preview_columns", "各列含义", "What each column means"),
    ("preview_file_column", "文件中的列", "Column in the file"),
    ("preview_meaning", "读作", "Read as"),
    ("meaning_personal", "个人信息，不保存", "Personal data, not stored"),
    ("meaning_ignored", "模板认识此列，不保存", "Known to the profile, not stored"),
    ("meaning_unknown", "未知列，不保存", "Unknown, not stored"),
    ("preview_notes", "说明", "Notes"),
    ("preview_skipped", "跳过 {n} 行合计或签字行", "{n} total or sign-off row(s) skipped"),
    ("preview_first_rows", "前几行入库后的样子（个人标识已假名化）", "The first rows as they would be stored (people pseudonymised)"),
    ("preview_rejects", "将被拒收的行", "Rows that would be rejected"),
    ("preview_row", "行号", "Row"),
    ("preview_reason", "原因", "Reason"),
    ("upload_rejected", "整个文件被拒收", "Rejected whole"),
    ("page_overview", "全局总览", "Bureau overview"),
    ("page_district", "区县", "District"),
    ("page_school", "学校", "School"),
];

/// The text of a key in a language; a missing key shows as `⟨key⟩`, which the tests look for.
pub fn t(lang: Lang, key: &str) -> String {
    lookup(lang, key).unwrap_or_else(|| format!("⟨{key}⟩"))
}

/// The text of a key, if there is one.
pub fn lookup(lang: Lang, key: &str) -> Option<String> {
    pick(TEXTS, lang, key)
}

/// The words of `key` in a table of (key, Chinese, English), in a language.
fn pick(table: &[(&str, &str, &str)], lang: Lang, key: &str) -> Option<String> {
    table
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| match lang {
            Lang::Zh => zh.to_string(),
            Lang::En => en.to_string(),
        })
}

/// The words for the columns of the downloads: (column, Chinese, English).
static COLUMNS: &[(&str, &str, &str)] = &[
    ("district", "区县", "District"),
    ("school_code", "学校代码", "School code"),
    ("school_name", "学校名称", "School"),
    ("school_type", "学校类型", "School type"),
    ("class_code", "班级", "Class"),
    ("grade", "年级", "Grade"),
    ("gender", "性别", "Gender"),
    ("period_start", "起始日期", "From"),
    ("period_end", "截止日期", "To"),
    ("numerator", "分子", "Numerator"),
    ("denominator", "分母", "Denominator"),
    ("value", "数值", "Value"),
    ("suppressed", "小样本隐藏", "Hidden (small numbers)"),
    ("notice_id", "通知编号", "Notice id"),
    ("title", "通知标题", "Notice title"),
    ("symptom", "症状", "Symptom"),
    ("dataset", "数据集", "Dataset"),
    ("kind", "类型", "Kind"),
    ("date", "日期", "Date"),
    ("day", "日期", "Day"),
    ("ill", "患病人数", "Ill students"),
    ("fever", "发热人数", "Fever"),
    ("sick_absent", "因病缺课人数", "Absent ill"),
    ("students", "人数", "Students"),
    ("count", "人数", "Count"),
    ("first_day", "首日", "First day"),
    ("last_day", "末日", "Last day"),
    ("days", "天数", "Days"),
    ("latest_date", "最新数据日期", "Latest data"),
    ("days_since", "距今天数", "Days since"),
    ("classes_missing", "未上报班级数", "Classes not reported"),
    ("classes", "班级数", "Classes"),
    ("batch_id", "批次编号", "Batch id"),
    ("source_file", "文件", "File"),
    ("format", "格式", "Format"),
    ("rows_read", "读取行数", "Rows read"),
    ("rows_stored", "入库行数", "Rows stored"),
    ("rows_rejected", "拒收行数", "Rows rejected"),
    ("ingested_at", "入库时间", "Received"),
    ("uploaded_by", "上传人", "Uploaded by"),
    ("shape", "报送形式", "Shape"),
    ("as_of_date", "名册日期", "Roster date"),
    ("has_reject_report", "有拒收报告", "Reject report"),
    ("student_id", "学生（化名）", "Student (pseudonym)"),
    ("status", "状态", "Status"),
];

/// A download's column in a language: its word, or its name where it has none.
pub fn column_word(lang: Lang, name: &str) -> String {
    pick(COLUMNS, lang, name).unwrap_or_else(|| name.to_string())
}

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
    fn every_key_once_in_both_languages() {
        let mut keys = std::collections::HashSet::new();
        for (k, zh, en) in TEXTS {
            assert!(keys.insert(k), "{k} twice");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(t(Lang::En, "nav_overview"), "Overview");
        assert_eq!(t(Lang::Zh, "nav_overview"), "总览");
        assert_eq!(indicator_name(Lang::Zh, "attendance_rate"), "出勤率");
        assert_eq!(
            indicator_name(Lang::En, "attendance_rate"),
            "Attendance rate"
        );
    }
}
