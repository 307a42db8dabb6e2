//! The analyst queries of `docs/sql-cookbook.md`, read from the document itself so that the
//! tests that run them (on ClickHouse 18.16, on chDB, on the embedded backend, and both
//! backends against each other) run exactly what the document shows.
//!
//! Each ```` ```sql ```` block starts with `-- name: <question>` and may name its
//! [`Dialect`]s on a `-- dialect:` line (`clickhouse`, `datafusion`, or both separated by a
//! comma); a block without one is ClickHouse SQL. Every question has exactly one query per
//! dialect: a ClickHouse block followed by its DataFusion twin, or one block for both.
//!
//! [`Query::bind`] is the one place where values reach the SQL: ids are quoted (and, through
//! [`Query::bind_checked`], first checked against [`is_id`]), enum symbols and sort keys come
//! from closed sets ([`Symbol`], [`NodeSort`]), numbers are numbers.

use std::sync::OnceLock;

pub use super::dialect::Dialect;
use crate::tables::enums::Enum8Values;

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
    /// domain id goes, `{command_id}` where a quoted command id goes and `{as_of_ms}` where the
    /// as-of time goes (see [`Params`]).
    pub sql: String,
}

/// What a query's placeholders stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params<'a> {
    /// `{node_id}`.
    pub node_id: &'a str,
    /// `{domain_id}`: the domain whose subtree a query covers.
    pub domain_id: &'a str,
    /// `{command_id}`: the command whose history a query shows.
    pub command_id: &'a str,
    /// `{as_of_ms}`: the time sync debt is read at, epoch milliseconds; `None` for the latest
    /// twin update (the latest event time the twins have seen).
    pub as_of_ms: Option<i64>,
    /// `{mode}`, `{phase}`, `{drift}`, `{node_order}`, `{limit}` and `{offset}`: which nodes
    /// a node table shows, in which order, and which page of them.
    pub page: NodePage,
}

/// A symbol of one of the Enum8 value sets (`tables::enums`), e.g. a connectivity mode: only
/// [`Symbol::of`] makes one, so a bound symbol is always one of its set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol(&'static str);

impl Symbol {
    /// The symbol of `values` spelled `text` (exactly), if there is one.
    pub fn of(values: Enum8Values, text: &str) -> Option<Self> {
        values
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(name, _)| Self(name))
    }

    /// The symbol's text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// The order of a node table (`{node_order}`); ties go by node id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NodeSort {
    /// Highest attention score first.
    #[default]
    Attention,
    /// Highest drift score first.
    Drift,
    /// Most seconds behind first.
    SyncDebt,
    /// Most recently seen first.
    LastSeen,
    /// By node id.
    NodeId,
}

impl NodeSort {
    /// Every order.
    pub const ALL: [NodeSort; 5] = [
        NodeSort::Attention,
        NodeSort::Drift,
        NodeSort::SyncDebt,
        NodeSort::LastSeen,
        NodeSort::NodeId,
    ];

    /// The order's name, as a page's `sort` parameter spells it.
    pub fn name(self) -> &'static str {
        match self {
            NodeSort::Attention => "attention",
            NodeSort::Drift => "drift",
            NodeSort::SyncDebt => "sync_debt",
            NodeSort::LastSeen => "last_seen",
            NodeSort::NodeId => "node_id",
        }
    }

    /// The order called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|sort| sort.name() == name)
    }

    /// The `ORDER BY` list (the same in both dialects: numbers and node ids only).
    pub fn sql(self) -> &'static str {
        match self {
            NodeSort::Attention => "attention_score DESC, node_id",
            NodeSort::Drift => "drift_score DESC, node_id",
            NodeSort::SyncDebt => "seconds_behind DESC, node_id",
            NodeSort::LastSeen => "last_seen_ms DESC, node_id",
            NodeSort::NodeId => "node_id",
        }
    }
}

/// Which nodes of a node table, in which order, which page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodePage {
    /// `{mode}`: only nodes in this connectivity mode (`tables::enums::CONNECTIVITY`).
    pub mode: Option<Symbol>,
    /// `{phase}`: only nodes in this lifecycle phase (`tables::enums::LIFECYCLE_PHASE`).
    pub phase: Option<Symbol>,
    /// `{drift}`: only nodes with this drift status (`tables::enums::DRIFT_STATUS`).
    pub drift: Option<Symbol>,
    /// `{node_order}`.
    pub sort: NodeSort,
    /// `{limit}`: rows per page.
    pub limit: u32,
    /// `{offset}`: rows skipped.
    pub offset: u64,
}

impl Default for NodePage {
    /// Every node, by attention, the first [`NodePage::DEFAULT_LIMIT`].
    fn default() -> Self {
        Self {
            mode: None,
            phase: None,
            drift: None,
            sort: NodeSort::default(),
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl NodePage {
    /// Rows per page unless a page says otherwise.
    pub const DEFAULT_LIMIT: u32 = 50;
}

/// The longest id [`is_id`] accepts.
pub const ID_MAX_LEN: usize = 128;

/// Whether `text` is an id the queries take (node, domain, command ids): 1 to
/// [`ID_MAX_LEN`] characters of `A-Z a-z 0-9 . _ : @ -`, the first a letter or digit (so no
/// `..`, no quotes, no blanks, no slashes).
pub fn is_id(text: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '-');
    text.len() <= ID_MAX_LEN
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.chars().all(allowed)
}

/// An id that [`is_id`] refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} is not an id (1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit)")]
pub struct BadId {
    /// Which parameter: `node_id`, `domain_id` or `command_id`.
    pub what: &'static str,
}

impl Default for Params<'_> {
    /// No node, the whole fleet (`global`), no command, as of the latest twin update.
    fn default() -> Self {
        Self {
            node_id: "",
            domain_id: DEFAULT_DOMAIN,
            command_id: "",
            as_of_ms: None,
            page: NodePage::default(),
        }
    }
}

impl Params<'_> {
    /// Ok when every id is empty (none) or an id ([`is_id`]).
    ///
    /// # Errors
    /// [`BadId`] naming the first parameter that is not.
    pub fn check(&self) -> Result<(), BadId> {
        let ids = [
            ("node_id", self.node_id),
            ("domain_id", self.domain_id),
            ("command_id", self.command_id),
        ];
        match ids.iter().find(|(_, id)| !id.is_empty() && !is_id(id)) {
            Some((what, _)) => Err(BadId { what }),
            None => Ok(()),
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

    /// As [`Query::bind`], once [`Params::check`] accepts `params`' ids.
    ///
    /// # Errors
    /// [`BadId`] for an id that is not one.
    pub fn bind_checked(&self, params: &Params<'_>) -> Result<String, BadId> {
        params.check()?;
        Ok(self.bind(params))
    }

    /// The SQL with every placeholder replaced by `params`: ids quoted as string literals of
    /// the dialect, symbols quoted (`''` for none), the sort key's fixed SQL, numbers.
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
            .replace("{command_id}", &self.quoted(params.command_id))
            .replace("{as_of_ms}", &as_of)
            .replace("{mode}", &self.symbol(params.page.mode))
            .replace("{phase}", &self.symbol(params.page.phase))
            .replace("{drift}", &self.symbol(params.page.drift))
            .replace("{node_order}", params.page.sort.sql())
            .replace("{limit}", &params.page.limit.to_string())
            .replace("{offset}", &params.page.offset.to_string())
    }

    fn symbol(&self, symbol: Option<Symbol>) -> String {
        self.quoted(symbol.map_or("", Symbol::as_str))
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

/// The query of [`DOCUMENT`] called `name` in `dialect`.
pub fn named(name: &str, dialect: Dialect) -> Option<&'static Query> {
    static QUERIES: OnceLock<Vec<Query>> = OnceLock::new();
    QUERIES
        .get_or_init(|| all(DOCUMENT))
        .iter()
        .find(|query| query.name == name && query.dialect == dialect)
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
    use crate::analytics::commands::SAFE_CONVERGED_PCT;

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
            sql: "SELECT {as_of_ms} WHERE d = {domain_id} AND n = {node_id} AND c = {command_id}"
                .to_owned(),
        };
        let params = Params {
            node_id: "n'1",
            domain_id: "region-a",
            command_id: "cmd-7",
            as_of_ms: Some(1_772_000_000_000),
            page: NodePage::default(),
        };
        assert_eq!(
            query(Dialect::ClickHouse).bind(&params),
            "SELECT 1772000000000 WHERE d = 'region-a' AND n = 'n\\'1' AND c = 'cmd-7'"
        );
        assert_eq!(
            query(Dialect::DataFusion).for_node("n"),
            "SELECT (SELECT max(updated_ms) FROM node_state_final) WHERE d = 'global' AND n = 'n' \
             AND c = ''"
        );
        assert_eq!(
            query(Dialect::ClickHouse).for_node("n"),
            "SELECT (SELECT max(updated_ms) FROM node_state FINAL) WHERE d = 'global' AND n = 'n' \
             AND c = ''"
        );
    }

    #[test]
    fn ids_are_checked_before_binding() {
        for good in [
            "n-ok",
            "sx-edge-a1-00042",
            "global",
            "c.7:x@y_z",
            &"a".repeat(128),
        ] {
            assert!(is_id(good), "{good}");
        }
        let long = "a".repeat(129);
        for bad in [
            "",
            "'; DROP TABLE x --",
            "%27",
            "../",
            "..",
            "a b",
            "a/b",
            "-a",
            &long,
        ] {
            assert!(!is_id(bad), "{bad}");
        }
        let query = Query {
            name: "q".to_owned(),
            dialect: Dialect::ClickHouse,
            sql: "SELECT {node_id}, {domain_id}".to_owned(),
        };
        let hostile = Params {
            domain_id: "x' OR 1 = 1 --",
            ..Params::default()
        };
        assert_eq!(
            query.bind_checked(&hostile),
            Err(BadId { what: "domain_id" })
        );
        let fine = Params {
            node_id: "n-1",
            ..Params::default()
        };
        assert_eq!(query.bind_checked(&fine).unwrap(), "SELECT 'n-1', 'global'");
        assert!(Params::default().check().is_ok(), "empty ids are none");
    }

    #[test]
    fn pages_bind_closed_sets_and_numbers() {
        use crate::tables::enums::{CONNECTIVITY, DRIFT_STATUS};
        assert_eq!(
            Symbol::of(CONNECTIVITY, "LIVE").map(Symbol::as_str),
            Some("LIVE")
        );
        assert_eq!(Symbol::of(CONNECTIVITY, "live"), None);
        assert_eq!(Symbol::of(CONNECTIVITY, "LIVE' OR '1"), None);
        let query = Query {
            name: "q".to_owned(),
            dialect: Dialect::DataFusion,
            sql: "WHERE ({mode} = '' OR m = {mode}) AND d = {drift} AND p = {phase} \
                  ORDER BY {node_order} LIMIT {limit} OFFSET {offset}"
                .to_owned(),
        };
        let params = Params {
            page: NodePage {
                mode: Symbol::of(CONNECTIVITY, "REPLAYING"),
                drift: Symbol::of(DRIFT_STATUS, "DRIFTED"),
                sort: NodeSort::SyncDebt,
                limit: 20,
                offset: 40,
                ..NodePage::default()
            },
            ..Params::default()
        };
        assert_eq!(
            query.bind(&params),
            "WHERE ('REPLAYING' = '' OR m = 'REPLAYING') AND d = 'DRIFTED' AND p = '' \
             ORDER BY seconds_behind DESC, node_id LIMIT 20 OFFSET 40"
        );
        for sort in NodeSort::ALL {
            assert_eq!(NodeSort::from_name(sort.name()), Some(sort));
        }
        assert_eq!(NodeSort::from_name("node_id; DROP"), None);
    }

    #[test]
    fn named_queries_are_found_per_dialect() {
        let ch = named("fleet_connectivity", Dialect::ClickHouse).unwrap();
        let df = named("fleet_connectivity", Dialect::DataFusion).unwrap();
        assert!(ch.sql.contains("toString(connectivity)"));
        assert!(!df.sql.contains("toString"));
        assert!(named("no_such", Dialect::ClickHouse).is_none());
    }

    /// The cookbook's rule for "safe to advance" is [`SAFE_CONVERGED_PCT`], in both dialects.
    #[test]
    fn the_safe_rule_uses_the_constant() {
        let rule = format!("converged * 100 >= {SAFE_CONVERGED_PCT} * total");
        for dialect in Dialect::ALL {
            let query = queries(DOCUMENT, dialect)
                .into_iter()
                .find(|q| q.name == "safe_to_advance")
                .expect("safe_to_advance");
            assert!(query.sql.contains(&rule), "{dialect}: {}", query.sql);
            assert!(query.sql.contains("failed = 0"), "{dialect}");
        }
    }
}
