//! Who reads, and what they can reach: a [`Principal`] (a role and a scope) and the session
//! each one queries through.
//!
//! A principal's session is a DataFusion session of its own whose catalog holds only what
//! it may read ([`designed`]): for everyone, the designed views (each indicator at each level
//! and split, in the export format, narrowed to the principal's scope; for anyone outside the
//! bureau under the small-cell rule with complementary suppression); for the bureau's roles
//! every table beside them; for anyone else only the calendar. A table that is not in the
//! catalog cannot be named by any SQL (an alias, a join, a subquery, a view, a CTE,
//! `information_schema`), and every view reads through its scope's filter. The typed reads
//! the pages make ([`QueryLayer::allows`], [`QueryLayer::alerts_as`], the indicators with
//! [`Principal::indicator_role`]) take the same principal.

use std::sync::Arc;

use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{col, lit, SessionContext};

mod designed;

use crate::bounded::{self, Limits};
use crate::error::{Result, TransformError};
use crate::reads::{Rows, Scope};
use crate::views::{read_only_stream, QueryLayer};

/// What an account may do (issue "Who may see what").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, accounts and the audit log included.
    BureauAdmin,
    /// Every school; no accounts.
    BureauAnalyst,
    /// The schools of one district.
    DistrictOfficer,
    /// One school: its pages, its data, its uploads and reject reports.
    SchoolClerk,
    /// Indicators and pseudonymised tables of the scope granted; never file names, batches,
    /// accounts or reject reports.
    Researcher,
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::BureauAdmin => "bureau_admin",
            Role::BureauAnalyst => "bureau_analyst",
            Role::DistrictOfficer => "district_officer",
            Role::SchoolClerk => "school_clerk",
            Role::Researcher => "researcher",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        [
            Role::BureauAdmin,
            Role::BureauAnalyst,
            Role::DistrictOfficer,
            Role::SchoolClerk,
            Role::Researcher,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

/// Who is reading: a role, and the schools it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    pub scope: Scope,
    /// A researcher the bureau granted the pseudonymised rows per student of its scope.
    pub rows: bool,
}

impl Principal {
    /// A principal whose scope fits its role: the bureau roles see the bureau, a district
    /// officer one district, a clerk one school; a researcher the scope granted.
    pub fn new(role: Role, scope: Scope) -> Result<Principal> {
        let fits = matches!(
            (role, &scope),
            (Role::BureauAdmin | Role::BureauAnalyst, Scope::Bureau)
                | (Role::DistrictOfficer, Scope::District(_))
                | (Role::SchoolClerk, Scope::School(_))
                | (Role::Researcher, _)
        );
        if !fits {
            return Err(TransformError::Config(format!(
                "a {} cannot have the scope {scope:?}",
                role.name()
            )));
        }
        Ok(Principal {
            role,
            scope,
            rows: false,
        })
    }

    /// The same principal granted the pseudonymised rows per student of its scope (a
    /// researcher only: the other roles outside the bureau read the designed views).
    pub fn with_rows(self, rows: bool) -> Result<Principal> {
        if rows && self.role != Role::Researcher {
            return Err(TransformError::Config(format!(
                "rows per student are granted to researchers, not to a {}",
                self.role.name()
            )));
        }
        Ok(Principal { rows, ..self })
    }

    /// How indicators are given to this principal: whole to the bureau's roles, with small
    /// cells suppressed to everyone else (INDICATORS.md).
    pub fn indicator_role(&self) -> crate::indicators::Role {
        match self.role {
            Role::BureauAdmin | Role::BureauAnalyst => crate::indicators::Role::Bureau,
            _ => crate::indicators::Role::Restricted,
        }
    }

    /// An indicator request as this principal asks it: given whole or under the small-cell
    /// rule, with the cells hidden decided once for all of its scope.
    pub fn asks(&self, req: &mut crate::indicators::Request) {
        req.role = self.indicator_role();
        req.within = self.within();
    }

    /// Its scope, as indicator requests carry it.
    fn within(&self) -> crate::indicators::Within {
        let mut w = crate::indicators::Within::default();
        match &self.scope {
            Scope::Bureau => {}
            Scope::District(d) => w.district = Some(d.clone()),
            Scope::School(s) => w.school = Some(s.clone()),
        }
        w
    }
}

/// Tables without a `school_code` column that anyone in the bureau may read whole.
const SHARED_TABLES: &[&str] = &["periods"];

impl QueryLayer {
    /// A session holding only what `who` may read, filtered to its scope (see the module).
    pub async fn session_for(&self, who: &Principal) -> Result<SessionContext> {
        let base = self.context();
        let catalog = base.state().config_options().catalog.clone();
        // The tables it reads as they are: every table for the bureau's roles; for anyone
        // else only those without schools in them that everyone reads whole.
        let bureau = who.indicator_role() == crate::indicators::Role::Bureau;
        let all = base
            .catalog(&catalog.default_catalog)
            .and_then(|c| c.schema(&catalog.default_schema))
            .map(|s| s.table_names())
            .unwrap_or_default();
        let names = if bureau {
            all.clone()
        } else {
            SHARED_TABLES.iter().map(|n| n.to_string()).collect()
        };
        let mut tables = std::collections::BTreeMap::new();
        for name in names {
            if let Ok(t) = base.table_provider(name.as_str()).await {
                tables.insert(name, t);
            }
        }
        // A researcher granted rows: each dataset's current rows (pseudonymised), only of its
        // scope's schools; never the raw tables, batches or marts.
        if who.rows && who.role == Role::Researcher {
            let schools = match &who.scope {
                Scope::Bureau => None,
                scope => Some(self.schools_in(scope).await?),
            };
            for d in edulake_schemas::stored() {
                if !all.iter().any(|n| n == d.name) {
                    continue;
                }
                let table = base.table(d.name).await?;
                let has_schools = table
                    .schema()
                    .field_with_unqualified_name("school_code")
                    .is_ok();
                let view = match (&schools, has_schools) {
                    (None, _) => table,
                    (Some(codes), true) => {
                        let list = codes.iter().map(|c| lit(c.as_str())).collect();
                        table.filter(col("school_code").in_list(list, false))?
                    }
                    (Some(_), false) => continue,
                };
                tables.insert(d.name.to_string(), view.into_view());
            }
        }
        // Beside them, for everyone, the designed views of its scope (for anyone but the
        // bureau, under the small-cell rule).
        let views = designed::DesignedViews::new(self, tables, |req| {
            who.asks(req);
            req.district = req.within.district.clone();
            req.school = req.within.school.clone();
        })
        .await?;
        // A catalog of its own, holding that one schema under the usual names.
        let schema = MemoryCatalogProvider::new();
        schema.register_schema(&catalog.default_schema, Arc::new(views))?;
        let catalogs = MemoryCatalogProviderList::new();
        catalogs.register_catalog(catalog.default_catalog.clone(), Arc::new(schema));
        let state = SessionStateBuilder::new_from_existing(base.state())
            .with_catalog_list(Arc::new(catalogs))
            .build();
        let ctx = SessionContext::new_with_state(state);
        // The build's own functions (which look into any school's raw rows) are the build's.
        if !bureau {
            let own: Vec<String> = ctx
                .state()
                .scalar_functions()
                .keys()
                .filter(|n| n.starts_with("edulake_"))
                .cloned()
                .collect();
            for name in own {
                ctx.deregister_udf(&name);
            }
        }
        Ok(ctx)
    }

    /// The tables and views `who` may query, by name.
    pub async fn tables_for(&self, who: &Principal) -> Result<Vec<String>> {
        let ctx = self.session_for(who).await?;
        let catalog = ctx.state().config_options().catalog.clone();
        let mut names = ctx
            .catalog(&catalog.default_catalog)
            .and_then(|c| c.schema(&catalog.default_schema))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        Ok(names)
    }

    /// Whether `who` may look at `scope` (a page, a download, an upload's school): the bureau
    /// roles anywhere; a district officer its district and that district's schools; a clerk
    /// its own school; a researcher the scope granted and what lies inside it.
    pub async fn allows(&self, who: &Principal, scope: &Scope) -> Result<bool> {
        Ok(match (&who.scope, scope) {
            (Scope::Bureau, _) => true,
            (Scope::District(mine), Scope::District(asked)) => mine == asked,
            (Scope::District(mine), Scope::School(code)) => self
                .school(code)
                .await?
                .is_some_and(|(_, district)| &district == mine),
            (Scope::School(mine), Scope::School(asked)) => mine == asked,
            (_, _) => false,
        })
    }

    /// The alerts `who` may see: those of its scope's schools; for anyone but the bureau the
    /// count of ill students (3 to 9 as a rule: a small cell) is left empty, the alert shown.
    pub async fn alerts_as(
        &self,
        who: &Principal,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
        threshold: u32,
        kind: crate::indicators::AlertKind,
    ) -> Result<Rows> {
        let (schema, batches) = self.alerts(from, to, threshold, kind).await?;
        let schools = match &who.scope {
            Scope::Bureau => None,
            scope => Some(self.schools_in(scope).await?),
        };
        let restricted = who.indicator_role() == crate::indicators::Role::Restricted;
        let mut out = Vec::with_capacity(batches.len());
        for b in batches {
            let mut b = b;
            if let Some(codes) = &schools {
                let col = arrow::compute::cast(
                    b.column(b.schema().index_of("school_code")?),
                    &arrow::datatypes::DataType::Utf8,
                )?;
                let col = arrow::array::AsArray::as_string::<i32>(&col);
                let keep: arrow::array::BooleanArray = col
                    .iter()
                    .map(|c| Some(c.is_some_and(|c| codes.iter().any(|k| k == c))))
                    .collect();
                b = arrow::compute::filter_record_batch(&b, &keep)?;
            }
            if restricted {
                let i = b.schema().index_of("count")?;
                let mut columns = b.columns().to_vec();
                columns[i] = arrow::array::new_null_array(columns[i].data_type(), b.num_rows());
                b = arrow::array::RecordBatch::try_new(b.schema(), columns)?;
            }
            out.push(b);
        }
        Ok((schema, out))
    }

    /// A read-only query `who` typed, from `who`'s session, as a stream (the caller bounds
    /// it).
    pub async fn sql_stream_as(
        &self,
        who: &Principal,
        query: &str,
    ) -> Result<(
        arrow::datatypes::SchemaRef,
        datafusion::execution::SendableRecordBatchStream,
    )> {
        let ctx = self.session_for(who).await?;
        read_only_stream(&ctx, query).await
    }

    /// A read-only query `who` typed, answered from `who`'s session within `limits`.
    pub async fn sql_as(&self, who: &Principal, query: &str, limits: &Limits) -> Result<Rows> {
        let ctx = self.session_for(who).await?;
        let (schema, stream) = read_only_stream(&ctx, query).await?;
        let pool = ctx.runtime_env().memory_pool.clone();
        Ok((schema, bounded::collect(stream, &pool, limits).await?))
    }
}
