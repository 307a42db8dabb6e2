//! The two SQL dialects the analytics are written in: ClickHouse's (the server backend) and
//! DataFusion's (the embedded Parquet backend), with the few constructs that differ between
//! them, so SQL that must mean the same on both (the rollup views) is written once.

use crate::tables::ddl::qualified;

/// A SQL dialect of one analytics backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// ClickHouse, 18.16 and current releases.
    ClickHouse,
    /// DataFusion over the Parquet tables (`sxfleet query`).
    DataFusion,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 2] = [Dialect::ClickHouse, Dialect::DataFusion];

    /// The dialect's name as `docs/sql-cookbook.md` writes it on a `-- dialect:` line.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::ClickHouse => "clickhouse",
            Dialect::DataFusion => "datafusion",
        }
    }

    /// The dialect called `name` (see [`Dialect::name`]), ignoring case and surrounding blanks.
    pub fn from_name(name: &str) -> Option<Dialect> {
        let name = name.trim();
        Dialect::ALL
            .into_iter()
            .find(|dialect| dialect.name().eq_ignore_ascii_case(name))
    }

    /// `count()`: the rows of the group.
    pub fn count(self) -> &'static str {
        match self {
            Dialect::ClickHouse => "count()",
            Dialect::DataFusion => "count(*)",
        }
    }

    /// The rows of the group for which `condition` holds.
    pub fn count_if(self, condition: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("countIf({condition})"),
            // DataFusion's default SQL parser reads no `FILTER (WHERE ...)` clause.
            Dialect::DataFusion => format!("sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"),
        }
    }

    /// The average of `value` over the rows of the group for which `condition` holds.
    pub fn avg_if(self, value: &str, condition: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("avgIf({value}, {condition})"),
            Dialect::DataFusion => format!("avg(CASE WHEN {condition} THEN {value} END)"),
        }
    }

    /// `then` where `condition` holds, else `otherwise`.
    pub fn if_then(self, condition: &str, then: &str, otherwise: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("if({condition}, {then}, {otherwise})"),
            Dialect::DataFusion => {
                format!("CASE WHEN {condition} THEN {then} ELSE {otherwise} END")
            }
        }
    }

    /// `time` (a `DateTime` / `Timestamp(Second)` column) truncated to its minute.
    pub fn start_of_minute(self, time: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("toStartOfMinute({time})"),
            Dialect::DataFusion => format!("date_trunc('minute', {time})"),
        }
    }

    /// A 0 typed like the dialect's counts (`count()`, [`Dialect::count_if`]) for a `UInt64`
    /// column, or like `sum` of a `Float64` for `kind = "Float64"`: an 18.16 view does not
    /// convert a `UInt8` literal into a `UInt64` column of its target table.
    pub fn zero(self, kind: &str) -> &'static str {
        match (self, kind) {
            (_, "Float64") => "0.0",
            (Dialect::ClickHouse, _) => "toUInt64(0)",
            (Dialect::DataFusion, _) => "0",
        }
    }

    /// Table or view `name` of ClickHouse database `database` as the dialect names it:
    /// qualified in ClickHouse, plain in DataFusion (one session, no databases).
    pub fn table(self, database: &str, name: &str) -> String {
        match self {
            Dialect::ClickHouse => qualified(database, name),
            Dialect::DataFusion => name.to_owned(),
        }
    }

    /// `table` read the way `FINAL` reads a ReplacingMergeTree table: `table FINAL` in
    /// ClickHouse (`table` may be qualified), the view `<table>_final` in DataFusion (see
    /// [`crate::backend::parquet::query::session`]).
    pub fn final_table(self, table: &str) -> String {
        match self {
            Dialect::ClickHouse => format!("{table} FINAL"),
            Dialect::DataFusion => format!("{table}_final"),
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for dialect in Dialect::ALL {
            assert_eq!(Dialect::from_name(dialect.name()), Some(dialect));
        }
        assert_eq!(
            Dialect::from_name(" DataFusion "),
            Some(Dialect::DataFusion)
        );
        assert_eq!(Dialect::from_name("postgres"), None);
    }

    #[test]
    fn conditional_aggregates() {
        let c = "x = 1";
        assert_eq!(Dialect::ClickHouse.count_if(c), "countIf(x = 1)");
        assert_eq!(
            Dialect::DataFusion.count_if(c),
            "sum(CASE WHEN x = 1 THEN 1 ELSE 0 END)"
        );
        assert_eq!(Dialect::ClickHouse.avg_if("v", c), "avgIf(v, x = 1)");
        assert_eq!(
            Dialect::DataFusion.avg_if("v", c),
            "avg(CASE WHEN x = 1 THEN v END)"
        );
        assert_eq!(Dialect::ClickHouse.if_then(c, "a", "b"), "if(x = 1, a, b)");
        assert_eq!(
            Dialect::DataFusion.if_then(c, "a", "b"),
            "CASE WHEN x = 1 THEN a ELSE b END"
        );
    }
}
