//! The marts described: the data dictionary's table of them, and the statements of a full
//! build (`edulake build --show-sql`) that another engine runs to compare.

use crate::error::Result;
use crate::indicators::{self, Helpers, Kept};
use crate::views::{current_view_sql, QueryLayer};

use super::Mart;

/// The statements of a full build, one per mart under a `-- mart: <name>` line (what `edulake
/// build --show-sql` prints): the script another engine can run to compare.
pub async fn full_build_sql(layer: &QueryLayer) -> Result<String> {
    let days = layer.data_days().to_vec();
    Ok(Mart::all()
        .into_iter()
        .map(|m| {
            let sql = match m {
                Mart::Current(d) => current_view_sql(d, None),
                // In the order given, each kept helper is a table when the marts after it run.
                other => other.sql(
                    &days,
                    Helpers {
                        ids: layer.local_ids(),
                        kept: Kept::ALL,
                    },
                ),
            };
            format!("-- mart: {}\n{sql};\n\n", m.sql_name())
        })
        .collect())
}

/// The marts for the data dictionary.
pub fn tables_markdown() -> String {
    let mut out = String::from(
        "## Indicator tables (marts) for `edulake sql`\n\n\
         Kept in the lake by `edulake build` (folder `marts/`), one row per day at the finest \
         grain of the indicator; a week, month or range is Σ numerator / Σ denominator over its \
         days. A mart that is not up to date with the lake is computed at query time instead, so \
         a query never sees stale rows. The current views of the datasets are kept the same way \
         (folder `current/`).\n\n| table | reads | definition |\n|---|---|---|\n",
    );
    for mart in Mart::all() {
        let definition = match mart {
            Mart::Current(_) => continue,
            Mart::Kept(name) => format!(
                "{} (helper `{name}`, kept as a table)",
                indicators::helper_definition(name)
            ),
            Mart::Indicator(i) => i.definition.clone(),
            Mart::Alerts => "ill students (fever reported or on sick leave) per (school_code, class_code, date), \
                 `count` ≥ 1: `edulake alerts` keeps the rows with count ≥ its threshold"
                .to_string(),
            Mart::FollowUp => indicators::follow_up_definition(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            mart.sql_name(),
            mart.sources().join(", "),
            definition.replace('|', "\\|")
        ));
    }
    out
}
