//! The hidden cells of each indicator for a restricted reader's scope, as the query layer
//! keeps them ([`crate::indicators::suppress`] decides them): read once per scope and lake,
//! however many reads ask at the same time.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};

use super::QueryLayer;
use crate::error::{Result, TransformError};
use crate::indicators::{self, Request};

/// A family of hidden cells, decided once however many reads ask for it at the same time.
pub(super) type FamilyCell = tokio::sync::OnceCell<Arc<indicators::suppress::Family>>;

/// The most families of hidden cells a session keeps ([`indicators::suppress`]).
const MAX_FAMILIES: usize = 256;

impl QueryLayer {
    /// The hidden cells of an indicator for a restricted reader's scope: its own family,
    /// with the cells hidden wherever the indicators it is `suppressed_with` hide theirs.
    pub(super) async fn family(
        &self,
        ind: &'static indicators::Indicator,
        req: &Request,
    ) -> Result<Arc<indicators::suppress::Family>> {
        let mut linked = Vec::new();
        for link in &ind.suppressed_with {
            let other = indicators::by_name(&link.indicator)?;
            linked.push((link.clone(), self.family_of(other, req, &[]).await?));
        }
        self.family_of(ind, req, &linked).await
    }

    /// One family ([`indicators::suppress`]): every level × split × period of the indicator
    /// within the reader's scope, over whole months of the data (days that add up) or the
    /// periods asked for (periods that do not).
    async fn family_of(
        &self,
        ind: &'static indicators::Indicator,
        req: &Request,
        links: &[(indicators::Link, Arc<indicators::suppress::Family>)],
    ) -> Result<Arc<indicators::suppress::Family>> {
        use indicators::suppress;
        let additive = suppress::additive(ind);
        let (from, to) = if additive {
            let (from, to) = self.range(None, None).await?;
            (
                from.with_day(1).unwrap_or(from),
                indicators::Grain::Month.period(to, to, to).1,
            )
        } else {
            self.range(req.from, req.to).await?
        };
        let grain = suppress::family_grain(ind, req.grain);
        let key = format!(
            "{}|{:?}|{from}|{to}|{}|{}",
            ind.name,
            req.within,
            grain.name(),
            links.len()
        );
        let cell = {
            let mut m = self
                .families
                .lock()
                .map_err(|_| TransformError::Internal("the families' lock".into()))?;
            // Ranges asked for make new families of the indicators whose periods do not add
            // up: kept within bounds, they are decided again the same way when asked again.
            if m.len() >= MAX_FAMILIES && !m.contains_key(&key) {
                m.clear();
            }
            m.entry(key).or_default().clone()
        };
        let family = cell
            .get_or_try_init(|| self.read_family(ind, req, (from, to), grain, links))
            .await?;
        Ok(family.clone())
    }

    /// Reads a family's cells and decides which are hidden.
    async fn read_family(
        &self,
        ind: &'static indicators::Indicator,
        req: &Request,
        (from, to): (NaiveDate, NaiveDate),
        grain: indicators::Grain,
        links: &[(indicators::Link, Arc<indicators::suppress::Family>)],
    ) -> Result<Arc<indicators::suppress::Family>> {
        use indicators::suppress;
        let additive = suppress::additive(ind);
        let started = std::time::Instant::now();
        let levels = suppress::family_levels(ind, &req.within);
        // Sums are read at their finest level and added up; anything else read at each.
        let read: Vec<indicators::Level> = if suppress::adds_up_levels(ind) {
            levels.iter().copied().take(1).collect()
        } else {
            levels.clone()
        };
        let mut cells = Vec::new();
        for level in read {
            for split in suppress::family_splits(ind) {
                let mut r = Request::new(ind.name);
                r.level = level;
                r.grain = grain;
                r.from = Some(from);
                r.to = Some(to);
                r.school = req.within.school.clone();
                r.district = req.within.district.clone();
                r.by = split.clone();
                // Read whole: a month's measure is the sum of its days, hidden or not.
                r.role = indicators::Role::Bureau;
                let (schema, batches) = self.run(&self.export_sql(&r).await?).await?;
                cells.extend(suppress::cells(
                    ind,
                    level,
                    split.as_deref(),
                    grain,
                    &schema,
                    &batches,
                )?);
            }
        }
        let (read_in, count) = (started.elapsed(), cells.len());
        // Deciding is work for the processor alone: off the threads that serve requests.
        let links = links.to_vec();
        let family = tokio::task::spawn_blocking(move || {
            if suppress::adds_up_levels(ind) {
                cells = suppress::with_levels(cells, &levels);
            }
            if additive {
                cells = suppress::with_months(cells);
            }
            suppress::protect(ind, additive, cells, |k| suppress::forced_by(&links, k))
        })
        .await
        .map_err(|e| TransformError::Internal(format!("deciding small cells: {e}")))?;
        tracing::debug!(
            "small cells of {} within {:?}: {count} cells read in {:.3} s, decided in {:.3} s",
            ind.name,
            req.within,
            read_in.as_secs_f64(),
            (started.elapsed() - read_in).as_secs_f64()
        );
        Ok(Arc::new(family))
    }
}
