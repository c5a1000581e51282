//! Who reads, and what they can reach: a [`Principal`] (a role and a scope) and the session
//! each one queries through.
//!
//! A principal's session is a DataFusion session of its own whose catalog holds only the
//! tables its role may read, each already filtered to its scope: a table with a
//! `school_code` is registered as a view of the full table restricted to the scope's schools,
//! and the full table is not in the catalog at all. So no SQL (an alias, a join, a subquery,
//! a view, a CTE, `information_schema`) can name what is not there, and every plan reads
//! through the filter. A table without schools in it is kept only where every role may see
//! it whole (the calendar of notices is not one of them: it stays out for a school's eyes).

use std::sync::Arc;

use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider,
};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{col, lit, SessionContext};

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
        Ok(Principal { role, scope })
    }

    /// How indicators are given to this principal: whole to the bureau's roles, with small
    /// cells suppressed to everyone else (INDICATORS.md).
    pub fn indicator_role(&self) -> crate::indicators::Role {
        match self.role {
            Role::BureauAdmin | Role::BureauAnalyst => crate::indicators::Role::Bureau,
            _ => crate::indicators::Role::Restricted,
        }
    }

    /// Whether this principal may see which files were sent, by whom (batches, file names,
    /// reject reports).
    pub fn sees_uploads(&self) -> bool {
        self.role != Role::Researcher
    }
}

/// Tables without a `school_code` column that anyone in the bureau may read whole.
const SHARED_TABLES: &[&str] = &["periods"];

impl QueryLayer {
    /// A session holding only what `who` may read, filtered to its scope (see the module).
    pub async fn session_for(&self, who: &Principal) -> Result<SessionContext> {
        let base = self.context();
        let catalog = base.state().config_options().catalog.clone();
        // A catalog of its own, holding one empty schema of the usual names.
        let schema = MemoryCatalogProvider::new();
        schema.register_schema(
            &catalog.default_schema,
            Arc::new(MemorySchemaProvider::new()),
        )?;
        let catalogs = MemoryCatalogProviderList::new();
        catalogs.register_catalog(catalog.default_catalog.clone(), Arc::new(schema));
        let state = SessionStateBuilder::new_from_existing(base.state())
            .with_catalog_list(Arc::new(catalogs))
            .build();
        let ctx = SessionContext::new_with_state(state);
        let schools = match &who.scope {
            Scope::Bureau => None,
            scope => Some(self.schools_in(scope).await?),
        };
        let names = base
            .catalog(&catalog.default_catalog)
            .and_then(|c| c.schema(&catalog.default_schema))
            .map(|s| s.table_names())
            .unwrap_or_default();
        for name in names {
            if !who.sees_uploads() && (name == "batches" || name.starts_with("raw_")) {
                continue;
            }
            let table = base.table(name.as_str()).await?;
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
                (Some(_), false) if SHARED_TABLES.contains(&name.as_str()) => table,
                (Some(_), false) => continue,
            };
            ctx.register_table(name.as_str(), view.into_view())?;
        }
        Ok(ctx)
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
