//! The analyst queries of `docs/sql-cookbook.md`, read from the document itself so that the
//! tests that run them (on ClickHouse 18.16, on chDB, on the embedded backend, and both
//! backends against each other) run exactly what the document shows.
//!
//! Each ```` ```sql ```` block starts with `-- name: <question>` and may name its
//! [`Dialect`]s on a `-- dialect:` line (`clickhouse`, `datafusion`, or both separated by a
//! comma); a block without one is ClickHouse SQL. Every question has exactly one query per
//! dialect: a ClickHouse block followed by its DataFusion twin, or one block for both.

pub use super::dialect::Dialect;

/// The cookbook document.
pub const DOCUMENT: &str = include_str!("../../../docs/sql-cookbook.md");

/// One named query of the cookbook in one dialect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The name on its `-- name:` line.
    pub name: String,
    /// The SQL dialect it is written in.
    pub dialect: Dialect,
    /// The SQL, with `{node_id}` where a quoted node id goes.
    pub sql: String,
}

impl Query {
    /// The SQL for `node_id`, quoted as the query's dialect reads a string literal.
    pub fn for_node(&self, node_id: &str) -> String {
        let quoted = match self.dialect {
            Dialect::ClickHouse => node_id.replace('\\', "\\\\").replace('\'', "\\'"),
            Dialect::DataFusion => node_id.replace('\'', "''"),
        };
        self.sql.replace("{node_id}", &format!("'{quoted}'"))
    }
}

/// The queries of `document` in `dialect`, in document order.
pub fn queries(document: &str, dialect: Dialect) -> Vec<Query> {
    all(document)
        .into_iter()
        .filter(|query| query.dialect == dialect)
        .collect()
}

/// Every query of `document`, one per block and dialect it names, in document order. A block
/// without a `-- name:` line, or naming an unknown dialect, is not a query.
pub fn all(document: &str) -> Vec<Query> {
    sql_blocks(document)
        .filter_map(parse_block)
        .flat_map(|(name, dialects, sql)| {
            dialects.into_iter().map(move |dialect| Query {
                name: name.to_owned(),
                dialect,
                sql: sql.to_owned(),
            })
        })
        .collect()
}

/// The text of every ```` ```sql ```` block, trimmed.
fn sql_blocks(document: &str) -> impl Iterator<Item = &str> {
    document
        .split("```sql")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(str::trim)
}

/// A block's name, dialects and SQL; `None` without a name or with an unknown dialect.
fn parse_block(sql: &str) -> Option<(&str, Vec<Dialect>, &str)> {
    let header = |key: &str| {
        sql.lines()
            .find_map(|line| line.trim().strip_prefix(key))
            .map(str::trim)
    };
    let name = header("-- name:")?;
    let dialects = match header("-- dialect:") {
        None => vec![Dialect::ClickHouse],
        Some(names) => names
            .split(',')
            .map(Dialect::from_name)
            .collect::<Option<Vec<_>>>()?,
    };
    Some((name, dialects, sql))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_is_a_named_query_of_known_dialects() {
        for block in sql_blocks(DOCUMENT) {
            assert!(parse_block(block).is_some(), "{block}");
        }
    }

    #[test]
    fn every_question_has_one_query_per_dialect_in_the_same_order() {
        let names = |dialect| -> Vec<String> {
            queries(DOCUMENT, dialect)
                .into_iter()
                .map(|q| q.name)
                .collect()
        };
        let clickhouse = names(Dialect::ClickHouse);
        assert!(clickhouse.len() >= 10, "{}", clickhouse.len());
        let mut unique = clickhouse.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), clickhouse.len(), "duplicate names");
        assert_eq!(names(Dialect::DataFusion), clickhouse);
    }

    #[test]
    fn a_twin_follows_its_clickhouse_query() {
        let parsed: Vec<_> = sql_blocks(DOCUMENT).filter_map(parse_block).collect();
        let mut blocks = parsed.iter();
        while let Some((name, dialects, _)) = blocks.next() {
            match dialects.as_slice() {
                [Dialect::ClickHouse] => {
                    let twin = blocks.next().map(|(n, d, _)| (*n, d.as_slice()));
                    assert_eq!(twin, Some((*name, &[Dialect::DataFusion][..])), "{name}");
                }
                both => assert_eq!(both, Dialect::ALL, "{name}"),
            }
        }
    }

    #[test]
    fn blocks_name_their_dialects() {
        let doc = "```sql\n-- name: a\nSELECT 1\n```\n\
                   ```sql\n-- name: a\n-- dialect: datafusion\nSELECT 2\n```\n\
                   ```sql\n-- name: b\n-- dialect: clickhouse, DataFusion\nSELECT 3\n```\n\
                   ```sql\n-- name: c\n-- dialect: postgres\nSELECT 4\n```\n\
                   ```sql\nSELECT 5\n```";
        let got: Vec<(String, Dialect)> =
            all(doc).into_iter().map(|q| (q.name, q.dialect)).collect();
        let want = [
            ("a", Dialect::ClickHouse),
            ("a", Dialect::DataFusion),
            ("b", Dialect::ClickHouse),
            ("b", Dialect::DataFusion),
        ]
        .map(|(name, dialect)| (name.to_owned(), dialect));
        assert_eq!(got, want);
        assert!(queries(doc, Dialect::DataFusion)[0]
            .sql
            .ends_with("SELECT 2"));
    }

    #[test]
    fn node_ids_are_quoted_per_dialect() {
        let query = |dialect| Query {
            name: "q".to_owned(),
            dialect,
            sql: "SELECT 1 WHERE node_id = {node_id}".to_owned(),
        };
        assert_eq!(
            query(Dialect::ClickHouse).for_node("a'b\\c"),
            "SELECT 1 WHERE node_id = 'a\\'b\\\\c'"
        );
        assert_eq!(
            query(Dialect::DataFusion).for_node("a'b\\c"),
            "SELECT 1 WHERE node_id = 'a''b\\c'"
        );
    }
}
