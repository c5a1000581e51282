//! The command line of `shared/contract/CLI.md`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "edulake",
    version,
    about = "Data pipeline and analytics warehouse for education bureaus"
)]
pub struct Cli {
    /// The lake: a local folder or an object-store URL such as s3://bucket/prefix.
    #[arg(long, global = true, env = "EDULAKE_LAKE", default_value = "./lake")]
    pub lake: String,
    /// The state directory (key, reject reports), outside the lake. Default: beside a local
    /// lake (`./lake.state`), or under ~/.local/share/edulake for an object-store lake.
    #[arg(long, global = true, env = "EDULAKE_STATE")]
    pub state: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// The language of what ingest says about files and rows. Default: the locale (LC_ALL,
    /// LC_MESSAGES, LANG): English for en_*, else Chinese.
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum BoundariesAction {
    /// Import a GeoJSON FeatureCollection of the districts' polygons (longitude and latitude),
    /// each named as the school registry names its district; it replaces the one before and
    /// is kept in the state directory.
    ///
    /// Example: edulake boundaries import 石家庄区县.geojson --name-property name
    Import {
        /// The GeoJSON file (Polygon and MultiPolygon features).
        file: PathBuf,
        /// The feature property holding the district's name (default: the first of
        /// district, 区县, name, NAME, 名称, 区县名称).
        #[arg(long)]
        name_property: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    /// 中文 (Chinese).
    Zh,
    /// English.
    En,
}

impl From<LangArg> for edulake_schemas::words::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Zh => edulake_schemas::words::Lang::Zh,
            LangArg::En => edulake_schemas::words::Lang::En,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SqlFormat {
    /// A table drawn in text, for reading in a terminal.
    Table,
    /// CSV with a header row (text cells made safe for Excel).
    Csv,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
    /// One Parquet file.
    Parquet,
    /// An Excel workbook.
    Xlsx,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AlertFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    /// A row per class.
    Class,
    /// A row per school.
    School,
    /// A row per district.
    District,
    /// One row for the whole bureau.
    Bureau,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GrainArg {
    /// A row per school day.
    Day,
    /// A row per week (Monday to Sunday).
    Week,
    /// A row per calendar month.
    Month,
    /// One row for the whole range.
    Total,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ByArg {
    /// Split by grade.
    Grade,
    /// Split by gender.
    Gender,
    /// Split by notice (the notice indicators).
    Notice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a synthetic district, ingest it, build the indicators and serve the cockpit.
    ///
    /// Example: edulake demo --schools 10 --days 20
    Demo {
        /// Where the cockpit listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Schools in the district.
        #[arg(long, default_value_t = 40)]
        schools: usize,
        /// Students in the whole district.
        #[arg(long, default_value_t = 12_000)]
        students: usize,
        /// School days, ending at the last weekday before today.
        #[arg(long, default_value_t = 60)]
        days: usize,
        /// The random seed: the same seed makes the same district.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Write a synthetic district as the files schools would send.
    ///
    /// Example: edulake generate --out extracts --schools 5 --days 10 --messy
    Generate {
        /// The folder to write the files into (a subfolder per dataset).
        #[arg(long)]
        out: PathBuf,
        /// Schools in the district.
        #[arg(long, default_value_t = 40)]
        schools: usize,
        /// Students in the whole district.
        #[arg(long, default_value_t = 12_000)]
        students: usize,
        /// School days, ending at the last weekday before today (or --end).
        #[arg(long, default_value_t = 60)]
        days: usize,
        /// The random seed: the same seed makes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Mix formats, encodings, header languages and bad rows as real extracts do.
        #[arg(long)]
        messy: bool,
        /// The last school day (default: the last weekday before today).
        #[arg(long)]
        end: Option<String>,
        /// Health check-ins only on the last N school days (default: every day).
        #[arg(long)]
        health_days: Option<usize>,
        /// Only these datasets (comma-separated).
        #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(edulake_schemas::names()))]
        datasets: Vec<String>,
        /// Every school sends a row per student and day, and per-student check-ins, instead of
        /// reporting the way real districts do (class reports, exception registers, rows).
        #[arg(long)]
        per_student: bool,
    },
    /// Read extracts (files or folders) into the lake, one batch per file.
    ///
    /// Examples:
    ///   edulake ingest --dataset attendance extracts/attendance
    ///   edulake ingest --dataset health_checkin --school S001 --date 2026-11-02 晨午检.xlsx
    ///   edulake ingest --profile dingtalk-daily --dry-run 每日统计.xlsx
    Ingest {
        /// The dataset the files are (a profile's shape may store them as an exception
        /// register or a class report of it). Not needed with --profile.
        #[arg(long, required_unless_present = "profile", value_parser = clap::builder::PossibleValuesParser::new(edulake_schemas::names()))]
        dataset: Option<String>,
        /// The school the files are from (fills a missing school_code column).
        #[arg(long)]
        school: Option<String>,
        /// The snapshot date of a roster (fills a missing as_of_date column).
        #[arg(long = "as-of")]
        as_of: Option<String>,
        /// The day the files are for (fills a missing date column; an exception register
        /// covers it even when it lists nobody).
        #[arg(long)]
        date: Option<String>,
        /// The class the files are for (fills a missing class_code column).
        #[arg(long)]
        class: Option<String>,
        /// The files list only the students who were not present (缺勤登记): every other
        /// student of the roster in force in the classes and days they cover was present.
        #[arg(long)]
        exceptions: bool,
        /// Read and check the files and say what each would become (its columns' meaning,
        /// the date's source, the first rows as stored, the rejects), storing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Read every file with this export profile (`edulake profiles` lists them) instead
        /// of the one its headers select.
        #[arg(long)]
        profile: Option<String>,
        /// The files, or folders of files, to read.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// List the export profiles (built in, and the bureau's own in the state directory's
    /// profiles/) with the headers that select them.
    Profiles,
    /// Fetch new extracts from the sources a file lists (folders that school systems export
    /// into), each file ingested once it is whole and only once; every source on its own
    /// schedule until stopped.
    ///
    /// Example: edulake pull --sources sources.toml --once
    Pull {
        /// The sources file (TOML: a [[source]] per folder, with its name, dataset or profile,
        /// school, every, settle, folder and files).
        #[arg(long)]
        sources: PathBuf,
        /// Pull every source once, then stop.
        #[arg(long)]
        once: bool,
    },
    /// The districts' boundaries, drawn under the schools on the cockpit's map.
    Boundaries {
        #[command(subcommand)]
        action: BoundariesAction,
    },
    /// List the ingested batches.
    Batches {
        /// How to print them.
        #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
        format: SqlFormat,
        /// Instead, for each school and day, how many class-days were counted from each shape
        /// of report (per-student rows, exception register, class report, school report).
        #[arg(long)]
        shapes: bool,
    },
    /// Run a read-only SQL query over the lake's tables (`edulake schema` lists them).
    #[command(after_long_help = sql_examples())]
    Sql {
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
        format: SqlFormat,
        /// Answer as this role would see it (the cockpit runs its users' queries so): only
        /// the tables the role may read, filtered to --school or --district.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ROLES))]
        role: Option<String>,
        /// With --role: the school it is limited to.
        #[arg(long, requires = "role")]
        school: Option<String>,
        /// With --role: the district it is limited to.
        #[arg(long, requires = "role", conflicts_with = "school")]
        district: Option<String>,
        /// With --role researcher: with the rows per student it was granted.
        #[arg(long, requires = "role")]
        rows: bool,
        /// The query: it may read the lake, never change it.
        query: String,
    },
    /// The cockpit's accounts (kept in the state directory, outside the lake).
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Bring the indicator tables (marts) up to date with everything ingested; incremental.
    Build {
        /// Recompute every mart in full, up to date or not.
        #[arg(long)]
        full: bool,
        /// Print the SQL of each mart (a full build) instead of building.
        #[arg(long)]
        show_sql: bool,
    },
    /// Write an indicator in the export format of INDICATORS.md.
    Export(ExportArgs),
    /// List the cluster alerts: classes where ≥ 3 students had fever or sick leave on a day.
    ///
    /// Example: edulake alerts --from 2026-11-01 --kind all --format json
    Alerts {
        /// The first day (YYYY-MM-DD; default: the first day in the lake).
        #[arg(long)]
        from: Option<String>,
        /// The last day (YYYY-MM-DD; default: the last day in the lake).
        #[arg(long)]
        to: Option<String>,
        /// How to print them.
        #[arg(long, value_enum, default_value_t = AlertFormat::Csv)]
        format: AlertFormat,
        /// Distinct ill students in a class on a day that raise an alert.
        #[arg(long, default_value_t = 3)]
        threshold: u32,
        /// Which alerts: cluster (聚集性预警), follow_up (因病缺课追踪) or all.
        #[arg(long, default_value = "cluster", value_parser = clap::builder::PossibleValuesParser::new(["cluster", "follow_up", "all"]))]
        kind: String,
    },
    /// List every indicator with its definition.
    Indicators,
    /// Serve the cockpit. On an address other than this computer's it needs an
    /// administrator account (`edulake users add LOGIN --role bureau_admin`).
    ///
    /// Example: edulake serve --addr 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
    Serve {
        /// Where the cockpit listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Serve over TLS with this certificate chain (PEM); with --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Pull the sources this file lists beside the cockpit, each on its schedule (as
        /// `edulake pull --sources`); the Data page shows how each is doing.
        #[arg(long)]
        sources: Option<PathBuf>,
    },
    /// Print the data dictionary (Markdown).
    Schema {
        /// Only this dataset's table.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(edulake_schemas::names()))]
        dataset: Option<String>,
    },
}

/// `edulake sql --help`'s examples: the queries transform offers to try first.
fn sql_examples() -> String {
    format!(
        "Examples:\n  edulake sql \"{}\"\n  edulake sql --format csv --role district_officer --district 长安区 \"{}\"",
        edulake_transform::reads::EXAMPLE_QUERY,
        edulake_transform::reads::VIEW_EXAMPLE
    )
}

/// The roles an account can have.
pub const ROLES: [&str; 5] = [
    "bureau_admin",
    "bureau_analyst",
    "district_officer",
    "school_clerk",
    "researcher",
];

/// `edulake users …`.
#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Create an account; prints a generated password once, unless one is given on stdin.
    ///
    /// Example: edulake users add wang --role school_clerk --school S001
    Add {
        /// The name the user signs in with.
        login: String,
        /// What the account may do and see.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(ROLES))]
        role: String,
        /// The school of a school_clerk (or a researcher limited to one school).
        #[arg(long)]
        school: Option<String>,
        /// The district of a district_officer (or a researcher limited to one district).
        #[arg(long, conflicts_with = "school")]
        district: Option<String>,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// A researcher may also query the pseudonymised rows per student of its scope
        /// (without it, only the indicator views, small cells hidden).
        #[arg(long)]
        grant_rows: bool,
    },
    /// List the accounts: login, role, scope, whether disabled, when created, rows granted.
    List,
    /// Disable an account and end its sessions.
    Disable {
        /// The account's login.
        login: String,
    },
    /// Give an account a new password (printed once, or read from stdin), enable it and end
    /// its sessions.
    ResetPassword {
        /// The account's login.
        login: String,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// What `edulake export` is asked for.
///
/// Example: edulake export --indicator attendance_rate --level district --grain week --format xlsx --out week.xlsx
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The indicator (see `edulake indicators`).
    #[arg(long)]
    pub indicator: String,
    /// A row per class, school, district, or one for the bureau.
    #[arg(long, value_enum, default_value_t = LevelArg::School)]
    pub level: LevelArg,
    /// A row per day, week or month, or one for the whole range.
    #[arg(long, value_enum, default_value_t = GrainArg::Total)]
    pub grain: GrainArg,
    /// The first day (YYYY-MM-DD; default: the first day in the lake).
    #[arg(long)]
    pub from: Option<String>,
    /// The last day (YYYY-MM-DD; default: the last day in the lake).
    #[arg(long)]
    pub to: Option<String>,
    /// Only this school.
    #[arg(long)]
    pub school: Option<String>,
    /// Only this district.
    #[arg(long)]
    pub district: Option<String>,
    /// Split each row by grade, gender or notice, where the indicator allows.
    #[arg(long, value_enum)]
    pub by: Option<ByArg>,
    /// Only the schools of this type (primary, junior, senior, nine_year, complete_secondary,
    /// kindergarten, training, other, or its Chinese word: 小学, 初中…), where the indicator
    /// allows.
    #[arg(long)]
    pub school_type: Option<String>,
    /// Only this grade (1–12: its classes, or the indicator's grade split), where the
    /// indicator allows.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=12))]
    pub grade: Option<u8>,
    /// Only this gender (M or F, 男 or 女), where the indicator splits by gender.
    #[arg(long)]
    pub gender: Option<String>,
    /// The file format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Print the SQL the export runs instead of running it.
    #[arg(long)]
    pub show_sql: bool,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every option, argument and value of every command says what it is in `--help`.
    #[test]
    fn every_option_is_described() {
        fn check(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                check(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        fn values<T: clap::ValueEnum>(missing: &mut Vec<String>) {
            for v in T::value_variants() {
                let v = v.to_possible_value().expect("a value");
                if v.get_help().is_none() {
                    missing.push(format!("the value {}", v.get_name()));
                }
            }
        }
        let mut missing = Vec::new();
        check(&super::Cli::command(), "edulake", &mut missing);
        values::<super::LangArg>(&mut missing);
        values::<super::SqlFormat>(&mut missing);
        values::<super::ExportFormat>(&mut missing);
        values::<super::AlertFormat>(&mut missing);
        values::<super::LevelArg>(&mut missing);
        values::<super::GrainArg>(&mut missing);
        values::<super::ByArg>(&mut missing);
        assert!(missing.is_empty(), "without a description: {missing:?}");
    }
}
