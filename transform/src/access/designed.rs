//! The views every principal queries: each indicator at each of its levels (class, school,
//! district, bureau) and splits, by day where its days add up (else by calendar month), in
//! the export format, already narrowed to the principal's scope and, for anyone outside the
//! bureau, under the small-cell rule with complementary suppression. For anyone outside the bureau they are all there is: no table
//! of rows per student, no batches or file names, only what a page or a download could show
//! it. The bureau's roles read every table beside them.
//!
//! Views are named `<indicator>_<level>` and `<indicator>_<level>_by_<split>` (for example
//! `attendance_rate_class`, `enrolled_school_by_gender`). They are listed in the catalog
//! (and `information_schema`) at once and computed only when a query reads them.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use crate::indicators::{self, Grain, Request};

/// What one view computes.
#[derive(Clone)]
struct Spec {
    sql: String,
    request: Request,
}

/// The schema (in the SQL sense) of the designed views.
pub(crate) struct DesignedViews {
    layer: crate::views::QueryLayer,
    specs: BTreeMap<String, Spec>,
    /// Tables read as they are (for the bureau every table; for anyone else the calendar).
    shared: BTreeMap<String, Arc<dyn TableProvider>>,
}

impl std::fmt::Debug for DesignedViews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesignedViews")
            .field("views", &self.specs.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl DesignedViews {
    /// The views of every indicator, each a request narrowed by `narrow` (the scope).
    pub(crate) async fn new(
        layer: &crate::views::QueryLayer,
        shared: BTreeMap<String, Arc<dyn TableProvider>>,
        narrow: impl Fn(&mut Request),
    ) -> crate::error::Result<DesignedViews> {
        let mut specs = BTreeMap::new();
        for ind in indicators::all() {
            // Days where they add up to every other period; else calendar months (a roster
            // per day would be the same roster, day after day).
            let grains = if indicators::suppress::additive(ind) {
                [Grain::Day, Grain::Week, Grain::Month, Grain::Total]
            } else {
                [Grain::Month, Grain::Week, Grain::Day, Grain::Total]
            };
            let grain = grains
                .into_iter()
                .find(|g| ind.grains.contains(g))
                .unwrap_or(Grain::Total);
            for level in &ind.levels {
                let splits = std::iter::once(None).chain(ind.by.iter().map(Some));
                for by in splits {
                    let mut request = Request::new(ind.name);
                    request.level = *level;
                    request.grain = grain;
                    request.by = by.cloned();
                    narrow(&mut request);
                    let name = match by {
                        None => format!("{}_{}", ind.name, level.name()),
                        Some(b) => format!("{}_{}_by_{b}", ind.name, level.name()),
                    };
                    let sql = layer.export_sql(&request).await?;
                    specs.insert(name, Spec { sql, request });
                }
            }
        }
        Ok(DesignedViews {
            layer: layer.clone(),
            specs,
            shared,
        })
    }
}

#[async_trait]
impl SchemaProvider for DesignedViews {
    fn table_names(&self) -> Vec<String> {
        self.specs
            .keys()
            .chain(self.shared.keys())
            .cloned()
            .collect()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if let Some(t) = self.shared.get(name) {
            return Ok(Some(t.clone()));
        }
        let Some(spec) = self.specs.get(name) else {
            return Ok(None);
        };
        let frame = self.layer.context().sql(&spec.sql).await?;
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        Ok(Some(Arc::new(DesignedView {
            layer: self.layer.clone(),
            spec: spec.clone(),
            schema,
        })))
    }

    async fn table_type(&self, name: &str) -> DfResult<Option<TableType>> {
        if let Some(t) = self.shared.get(name) {
            return Ok(Some(t.table_type()));
        }
        Ok(self.specs.contains_key(name).then_some(TableType::View))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.specs.contains_key(name) || self.shared.contains_key(name)
    }
}

/// One designed view: computed when a query reads it.
struct DesignedView {
    layer: crate::views::QueryLayer,
    spec: Spec,
    schema: SchemaRef,
}

impl std::fmt::Debug for DesignedView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesignedView")
            .field("indicator", &self.spec.request.indicator)
            .finish()
    }
}

#[async_trait]
impl TableProvider for DesignedView {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let (_, batches) = self
            .layer
            .export(&self.spec.request)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        // As the view's schema says (its rows are that plan's; only what the plan could not
        // know, as a column's nullability, differs).
        let batches = batches
            .into_iter()
            .map(|b| RecordBatch::try_new(self.schema.clone(), b.columns().to_vec()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let table = MemTable::try_new(self.schema.clone(), vec![batches])?;
        table.scan(state, projection, filters, limit).await
    }
}
