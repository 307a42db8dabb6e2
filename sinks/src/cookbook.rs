//! The analyst queries of `docs/sql-cookbook.md`, read from the document itself so that the
//! tests that run them (on ClickHouse 18.16, on chDB, on the embedded backend) run exactly what
//! the document shows.

/// The cookbook document.
pub const DOCUMENT: &str = include_str!("../../docs/sql-cookbook.md");

/// One named query of the cookbook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The name on its `-- name:` line.
    pub name: String,
    /// The SQL, with `{node_id}` where a quoted node id goes.
    pub sql: String,
}

impl Query {
    /// The SQL for `node_id` (quoted here; a `'` in the id is escaped).
    pub fn for_node(&self, node_id: &str) -> String {
        let quoted = format!("'{}'", node_id.replace('\\', "\\\\").replace('\'', "\\'"));
        self.sql.replace("{node_id}", &quoted)
    }
}

/// Every ```` ```sql ```` block of `document` that has a `-- name:` line, in document order.
pub fn queries(document: &str) -> Vec<Query> {
    document
        .split("```sql")
        .skip(1)
        .filter_map(|block| {
            let sql = block.split("```").next()?.trim();
            let name = sql
                .lines()
                .find_map(|line| line.trim().strip_prefix("-- name:"))?;
            Some(Query {
                name: name.trim().to_owned(),
                sql: sql.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookbook_names_every_query_once() {
        let all = queries(DOCUMENT);
        assert!(all.len() >= 10, "{}", all.len());
        let mut names: Vec<&str> = all.iter().map(|q| q.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "duplicate names");
        let blocks = DOCUMENT.matches("```sql").count();
        assert_eq!(blocks, all.len(), "a sql block without a name");
    }

    #[test]
    fn node_ids_are_quoted() {
        let query = Query {
            name: "q".to_owned(),
            sql: "SELECT 1 WHERE node_id = {node_id}".to_owned(),
        };
        assert_eq!(query.for_node("a'b"), "SELECT 1 WHERE node_id = 'a\\'b'");
    }
}
