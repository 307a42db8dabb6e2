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
    /// The SQL, with `{node_id}` where a quoted node id goes, `{domain_id}` where a quoted
    /// domain id goes and `{as_of_ms}` where the as-of time goes (see [`Params`]).
    pub sql: String,
}

/// What a query's placeholders stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params<'a> {
    /// `{node_id}`.
    pub node_id: &'a str,
    /// `{domain_id}`: the domain whose subtree a query covers.
    pub domain_id: &'a str,
    /// `{as_of_ms}`: the time sync debt is read at, epoch milliseconds; `None` for the latest
    /// twin update (the latest event time the twins have seen).
    pub as_of_ms: Option<i64>,
}

impl Default for Params<'_> {
    /// No node, the whole fleet (`global`), as of the latest twin update.
    fn default() -> Self {
        Self {
            node_id: "",
            domain_id: DEFAULT_DOMAIN,
            as_of_ms: None,
        }
    }
}

/// The domain of [`Params::default`]: the root of seed 000's tree.
pub const DEFAULT_DOMAIN: &str = "global";

impl Query {
    /// The SQL for `node_id`, quoted as the query's dialect reads a string literal, with the
    /// other placeholders as in [`Params::default`].
    pub fn for_node(&self, node_id: &str) -> String {
        self.bind(&Params {
            node_id,
            ..Params::default()
        })
    }

    /// The SQL with every placeholder replaced by `params`.
    pub fn bind(&self, params: &Params<'_>) -> String {
        let as_of = match params.as_of_ms {
            Some(ms) => ms.to_string(),
            None => format!(
                "(SELECT max(updated_ms) FROM {})",
                self.dialect.final_table("node_state")
            ),
        };
        self.sql
            .replace("{node_id}", &self.quoted(params.node_id))
            .replace("{domain_id}", &self.quoted(params.domain_id))
            .replace("{as_of_ms}", &as_of)
    }

    /// `text` as a string literal of the query's dialect.
    fn quoted(&self, text: &str) -> String {
        let escaped = match self.dialect {
            Dialect::ClickHouse => text.replace('\\', "\\\\").replace('\'', "\\'"),
            Dialect::DataFusion => text.replace('\'', "''"),
        };
        format!("'{escaped}'")
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

    #[test]
    fn domains_and_as_of_times_are_bound() {
        let query = |dialect| Query {
            name: "q".to_owned(),
            dialect,
            sql: "SELECT {as_of_ms} WHERE d = {domain_id} AND n = {node_id}".to_owned(),
        };
        let params = Params {
            node_id: "n'1",
            domain_id: "region-a",
            as_of_ms: Some(1_772_000_000_000),
        };
        assert_eq!(
            query(Dialect::ClickHouse).bind(&params),
            "SELECT 1772000000000 WHERE d = 'region-a' AND n = 'n\\'1'"
        );
        assert_eq!(
            query(Dialect::DataFusion).for_node("n"),
            "SELECT (SELECT max(updated_ms) FROM node_state_final) WHERE d = 'global' AND n = 'n'"
        );
        assert_eq!(
            query(Dialect::ClickHouse).for_node("n"),
            "SELECT (SELECT max(updated_ms) FROM node_state FINAL) WHERE d = 'global' AND n = 'n'"
        );
    }
}
