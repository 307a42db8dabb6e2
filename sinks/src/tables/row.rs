//! What every row shares: the Kafka coordinates it was read from, the errors of a record that
//! does not fit its table, and the conversions row building uses. Pure.
//!
//! Conventions (see the table files for the columns):
//! - Enum8 columns carry the `i8` code looked up *by symbol name* in the value tables
//!   ([`crate::tables::enums`]), so rows and DDL cannot disagree; a symbol missing there is a
//!   [`RowError`].
//! - `DateTime('UTC')` columns are whole seconds since the epoch (`u32` in RowBinary), derived
//!   from the exact Int64 millisecond column next to them and clamped to the type's range.
//! - Absent strings are `''`, absent timestamps `0`; measurements such as link quality and
//!   uptime stay `None` (Nullable columns).
//! - Signed schema counters (`seq`, `version`, ...) land in UInt64 columns; a negative value
//!   is a [`RowError`] rather than a silently wrapped number.

use crate::tables::enums::{enum8_code, Enum8Values};

/// Where a record was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coords<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// A decoded record that does not fit its table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    /// A counter that must not be negative is.
    #[error("{field} is negative ({value})")]
    Negative {
        /// Schema field name.
        field: &'static str,
        /// Its value.
        value: i64,
    },
    /// An enum symbol has no Enum8 code in the table's column type.
    #[error("{column} has no Enum8 code for symbol {symbol:?}")]
    UnknownSymbol {
        /// Column name.
        column: &'static str,
        /// The symbol.
        symbol: String,
    },
    /// The payload could not be rendered as JSON.
    #[error("payload is not representable as JSON: {0}")]
    Payload(String),
}

impl RowError {
    /// Stable reason code for the dead letter that replaces the record.
    pub fn reason_code(&self) -> &'static str {
        match self {
            RowError::Negative { .. } => "out_of_range",
            RowError::UnknownSymbol { .. } => "bad_enum",
            RowError::Payload(_) => "unrenderable_payload",
        }
    }
}

/// A row that knows the Kafka record it was built from: what the effectively-once landing
/// matches against what landed, and what a dead letter for a row the server rejects points
/// back to.
pub trait SourceRow {
    /// Topic, partition and offset of the record the row was built from.
    fn source(&self) -> Coords<'_>;
    /// The node the row is about (`''` when none).
    fn node_id(&self) -> &str;
}

/// The columns of a table that hold each row's Kafka coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coordinates {
    /// Column with the source topic.
    pub topic: &'static str,
    /// Column with the source partition.
    pub partition: &'static str,
    /// Column with the source offset.
    pub offset: &'static str,
}

impl Coordinates {
    /// `topic`, `partition`, `offset`: the columns of every table but `dlq`.
    pub const PLAIN: Coordinates = Coordinates {
        topic: "topic",
        partition: "partition",
        offset: "offset",
    };
}

/// Implements [`SourceRow`] for a row struct whose coordinates are its `topic`, `partition`
/// and `offset` fields (the [`Coordinates::PLAIN`] columns): `plain_source_row!(Row, field)`
/// for a row about the node named in its `field` (`node_id`; an alert's `subject_id`),
/// `plain_source_row!(Row)` for a row about no node.
macro_rules! plain_source_row {
    ($row:ty $(, $node:ident)?) => {
        impl $crate::tables::row::SourceRow for $row {
            fn source(&self) -> $crate::tables::row::Coords<'_> {
                $crate::tables::row::Coords {
                    topic: &self.topic,
                    partition: self.partition,
                    offset: self.offset,
                }
            }
            fn node_id(&self) -> &str {
                $crate::tables::row::plain_source_row!(@node self $(, $node)?)
            }
        }
    };
    (@node $this:ident, $node:ident) => {
        &$this.$node
    };
    (@node $this:ident) => {
        ""
    };
}
pub(crate) use plain_source_row;

/// Seconds since the epoch for a `DateTime` column, clamped to `0..=u32::MAX`.
pub fn datetime(epoch_ms: i64) -> u32 {
    let secs = epoch_ms.div_euclid(1000).clamp(0, i64::from(u32::MAX));
    u32::try_from(secs).unwrap_or(0)
}

/// A schema counter for a UInt64 column.
///
/// # Errors
/// [`RowError::Negative`] when `value` is negative.
pub fn unsigned(field: &'static str, value: i64) -> Result<u64, RowError> {
    u64::try_from(value).map_err(|_| RowError::Negative { field, value })
}

/// The Enum8 code of `symbol` in `column`'s `values`.
///
/// # Errors
/// [`RowError::UnknownSymbol`] when `values` lacks `symbol`.
pub fn code(column: &'static str, values: Enum8Values, symbol: &str) -> Result<i8, RowError> {
    enum8_code(values, symbol).ok_or_else(|| RowError::UnknownSymbol {
        column,
        symbol: symbol.to_owned(),
    })
}
