//! Lists: pagination, sorting and filters, built into SQL without ever pasting
//! a client's text into it. Filter values are bound parameters; sort keys are
//! looked up in each resource's table of sortable columns, so a sort key such as
//! `name;DROP TABLE projects` is simply an unknown key (422).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{Executor, Query, Row, Value, query};
use crate::error::{Error, FieldError, Result};

pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 500;

/// Which page of a list, and in what order.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50).
    pub per_page: Option<u32>,
    /// Comma-separated sort keys; `-` before a key sorts descending, e.g. `-start_date,name`.
    pub sort: Option<String>,
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    /// Number of items over all pages.
    pub total: i64,
}

/// A resource's sortable columns: the key clients use, the SQL expression.
pub struct Sortable {
    pub keys: &'static [(&'static str, &'static str)],
    /// Order when the client asks for none.
    pub default: &'static str,
    /// Unique column appended last, so pages never overlap or skip.
    pub tie_break: &'static str,
}

/// A `SELECT` with optional filters, counted and paged.
pub struct Select {
    columns: String,
    from: String,
    conditions: Vec<String>,
    args: Vec<Value>,
}

impl Select {
    /// `from` may include joins; `columns` is the select list.
    pub fn new(columns: &str, from: &str) -> Self {
        Select { columns: columns.to_owned(), from: from.to_owned(), conditions: Vec::new(), args: Vec::new() }
    }

    /// Adds a condition where `{}` stands for the bound `value`, e.g.
    /// `p.state = {}`. `{}` may appear several times; each is the same value.
    pub fn filter(&mut self, condition: &str, value: impl Into<Value>) -> &mut Self {
        self.args.push(value.into());
        let placeholder = format!("${}", self.args.len());
        self.conditions.push(condition.replace("{}", &placeholder));
        self
    }

    /// Adds the condition only when `value` is present.
    pub fn filter_opt<V: Into<Value>>(&mut self, condition: &str, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.filter(condition, v);
        }
        self
    }

    /// Case-insensitive substring search over `expression`.
    pub fn search(&mut self, expression: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            self.filter(&format!("LOWER({expression}) LIKE {{}} ESCAPE '\\'"), format!("%{escaped}%"));
        }
        self
    }

    fn where_clause(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!(" WHERE {}", self.conditions.join(" AND ")) }
    }

    /// Runs the count and the page query; maps each row with `map`.
    pub async fn fetch_page<T>(
        self,
        ex: &mut impl Executor,
        params: &PageParams,
        sortable: &Sortable,
        map: impl Fn(&Row) -> Result<T>,
    ) -> Result<Page<T>> {
        let per_page = params.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(Error::Validation(vec![FieldError::param("per_page", format!("must be between 1 and {MAX_PER_PAGE}"))]));
        }
        let page = params.page.unwrap_or(1);
        if page == 0 {
            return Err(Error::Validation(vec![FieldError::param("page", "pages are numbered from 1")]));
        }
        let order = order_by(params.sort.as_deref(), sortable)?;
        let where_clause = self.where_clause();

        // One round trip: the window count rides along with the page's rows.
        let offset = (i64::from(page) - 1) * i64::from(per_page);
        let mut items = query(format!(
            "SELECT {}, COUNT(*) OVER () AS total_count FROM {}{} ORDER BY {} LIMIT {} OFFSET {}",
            self.columns, self.from, where_clause, order, per_page, offset
        ));
        for arg in &self.args {
            items = items.bind(arg.clone());
        }
        let rows = items.fetch_all(ex).await?;
        let total: i64 = match rows.first() {
            Some(row) => row.get("total_count")?,
            // A page past the end has no row to carry the count.
            None if page > 1 => {
                let mut count = query(format!("SELECT COUNT(*) AS n FROM {}{}", self.from, where_clause));
                for arg in self.args {
                    count = count.bind(arg);
                }
                count.fetch_one(ex).await?.get("n")?
            }
            None => 0,
        };
        let items = rows.iter().map(map).collect::<Result<Vec<T>>>()?;
        Ok(Page { items, page, per_page, total })
    }

    /// The query without paging, for exports.
    pub fn into_query(self, order: &str) -> Query {
        let mut q = query(format!("SELECT {} FROM {}{} ORDER BY {}", self.columns, self.from, self.where_clause(), order));
        for arg in self.args {
            q = q.bind(arg);
        }
        q
    }
}

/// Translates `-start_date,name` into SQL through the resource's sort table.
fn order_by(sort: Option<&str>, sortable: &Sortable) -> Result<String> {
    let requested = sort.filter(|s| !s.trim().is_empty()).unwrap_or(sortable.default);
    let mut parts = Vec::new();
    for key in requested.split(',').map(str::trim) {
        let (name, direction) = match key.strip_prefix('-') {
            Some(name) => (name, "DESC"),
            None => (key, "ASC"),
        };
        let Some((_, column)) = sortable.keys.iter().find(|(k, _)| *k == name) else {
            let known: Vec<&str> = sortable.keys.iter().map(|(k, _)| *k).collect();
            return Err(Error::Validation(vec![FieldError::param(
                "sort",
                format!("cannot sort by {name:?}; sortable keys are {}", known.join(", ")),
            )]));
        };
        parts.push(format!("{column} {direction}"));
    }
    parts.push(format!("{} ASC", sortable.tie_break));
    Ok(parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SORT: Sortable = Sortable { keys: &[("name", "p.name"), ("start_date", "p.start_date")], default: "name", tie_break: "p.id" };

    #[test]
    fn sort_keys_map_to_known_columns_with_a_stable_tie_break() {
        assert_eq!(order_by(Some("-start_date,name"), &SORT).unwrap(), "p.start_date DESC, p.name ASC, p.id ASC");
        assert_eq!(order_by(None, &SORT).unwrap(), "p.name ASC, p.id ASC");
    }

    #[test]
    fn unknown_or_hostile_sort_keys_are_refused() {
        for bad in ["name;DROP TABLE projects", "budget", "name desc"] {
            assert!(matches!(order_by(Some(bad), &SORT), Err(Error::Validation(_))), "{bad}");
        }
    }

    #[test]
    fn repeated_placeholders_bind_one_value() {
        let mut s = Select::new("*", "t");
        s.filter("a = {}", 1i64).filter("(b = {} OR c = {})", "x");
        assert_eq!(s.where_clause(), " WHERE a = $1 AND (b = $2 OR c = $2)");
    }
}
