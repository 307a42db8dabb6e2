//! Pure conversion of sink rows to Arrow record batches: a table is a list of [`Column`]s, each
//! a name (the ClickHouse column's) and an accessor typed by what the column holds. No I/O.
//!
//! Arrow types follow the ClickHouse ones: `String` -> `Utf8`, `Enum8` -> `Utf8` holding the
//! symbol (what ClickHouse returns for the column), `DateTime('UTC')` -> `Timestamp(Second,
//! "UTC")`, `Array(String)` -> `List(Utf8)`, `Array(Int64)` -> `List(Int64)`, a byte string -> `Binary`, `Nullable(T)` -> a
//! nullable `T`, integers and floats -> the same width and signedness.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, Float64Array, Int32Array, Int64Array, Int64Builder, ListBuilder,
    RecordBatch, StringBuilder, TimestampSecondArray, UInt64Array, UInt8Array, UInt8Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;

use super::enums::Enum8Values;

/// What a column holds and how to read it from a row of type `R`.
pub enum Kind<R> {
    /// `String` (also `LowCardinality(String)`).
    Str(fn(&R) -> &str),
    /// `Enum8`: the row holds the code, the column the symbol from these values.
    Enum(Enum8Values, fn(&R) -> i8),
    /// `UInt8` (flags).
    U8(fn(&R) -> u8),
    /// `Int32`.
    I32(fn(&R) -> i32),
    /// `Int64`.
    I64(fn(&R) -> i64),
    /// `UInt64`.
    U64(fn(&R) -> u64),
    /// `Float64`.
    F64(fn(&R) -> f64),
    /// `Nullable(Int64)`.
    OptI64(fn(&R) -> Option<i64>),
    /// `Nullable(Float64)`.
    OptF64(fn(&R) -> Option<f64>),
    /// `DateTime('UTC')`: whole seconds since the epoch.
    DateTime(fn(&R) -> u32),
    /// `Array(String)`.
    Strings(fn(&R) -> &[String]),
    /// A ClickHouse `String` holding arbitrary bytes.
    Bytes(fn(&R) -> &[u8]),
    /// `Array(UInt8)` (flags).
    Flags(fn(&R) -> &[u8]),
    /// `Array(Int64)`.
    I64s(fn(&R) -> &[i64]),
}

/// One column of a table: its name and its [`Kind`].
pub struct Column<R> {
    /// The column name, the same as in the ClickHouse table.
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind<R>,
}

/// Shorthand for building column lists.
pub fn col<R>(name: &'static str, kind: Kind<R>) -> Column<R> {
    Column { name, kind }
}

/// A row that cannot be represented in its Arrow table.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// An Enum8 code with no symbol in the column's values (a bug in row building).
    #[error("{table}.{column}: Enum8 code {code} has no symbol")]
    UnknownCode {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// The code.
        code: i8,
    },
    /// Arrow refused the arrays (a bug in this module).
    #[error("arrow rejected the {table} batch")]
    Arrow {
        /// Table.
        table: &'static str,
        /// The Arrow error.
        #[source]
        source: ArrowError,
    },
}

/// The Arrow schema of a table with `columns`.
pub fn schema<R>(columns: &[Column<R>]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|column| field(column.name, &column.kind))
        .collect();
    Arc::new(Schema::new(fields))
}

fn field<R>(name: &str, kind: &Kind<R>) -> Field {
    let (data_type, nullable) = match kind {
        Kind::Str(_) | Kind::Enum(..) => (DataType::Utf8, false),
        Kind::U8(_) => (DataType::UInt8, false),
        Kind::I32(_) => (DataType::Int32, false),
        Kind::I64(_) => (DataType::Int64, false),
        Kind::U64(_) => (DataType::UInt64, false),
        Kind::F64(_) => (DataType::Float64, false),
        Kind::OptI64(_) => (DataType::Int64, true),
        Kind::OptF64(_) => (DataType::Float64, true),
        Kind::DateTime(_) => (utc_seconds(), false),
        Kind::Strings(_) => (
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        Kind::Bytes(_) => (DataType::Binary, false),
        Kind::Flags(_) => (
            DataType::List(Arc::new(Field::new("item", DataType::UInt8, true))),
            false,
        ),
        Kind::I64s(_) => (
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
            false,
        ),
    };
    Field::new(name, data_type, nullable)
}

fn utc_seconds() -> DataType {
    DataType::Timestamp(TimeUnit::Second, Some("UTC".into()))
}

/// `rows` as one record batch of `table`, which has `columns`.
///
/// # Errors
/// [`ConvertError::UnknownCode`] for an Enum8 code outside its column's values.
pub fn record_batch<R>(
    table: &'static str,
    columns: &[Column<R>],
    rows: &[&R],
) -> Result<RecordBatch, ConvertError> {
    let mut arrays = Vec::with_capacity(columns.len());
    for column in columns {
        arrays.push(array(table, column, rows)?);
    }
    RecordBatch::try_new(schema(columns), arrays)
        .map_err(|source| ConvertError::Arrow { table, source })
}

fn array<R>(
    table: &'static str,
    column: &Column<R>,
    rows: &[&R],
) -> Result<ArrayRef, ConvertError> {
    let array: ArrayRef = match &column.kind {
        Kind::Str(get) => {
            let mut builder = StringBuilder::new();
            rows.iter().for_each(|&row| builder.append_value(get(row)));
            Arc::new(builder.finish())
        }
        Kind::Enum(values, get) => {
            let mut builder = StringBuilder::new();
            for &row in rows {
                let code = get(row);
                let symbol = values
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map(|(name, _)| *name)
                    .ok_or(ConvertError::UnknownCode {
                        table,
                        column: column.name,
                        code,
                    })?;
                builder.append_value(symbol);
            }
            Arc::new(builder.finish())
        }
        Kind::U8(get) => Arc::new(rows.iter().map(|&row| get(row)).collect::<UInt8Array>()),
        Kind::I32(get) => Arc::new(rows.iter().map(|&row| get(row)).collect::<Int32Array>()),
        Kind::I64(get) => Arc::new(rows.iter().map(|&row| get(row)).collect::<Int64Array>()),
        Kind::U64(get) => Arc::new(rows.iter().map(|&row| get(row)).collect::<UInt64Array>()),
        Kind::F64(get) => Arc::new(rows.iter().map(|&row| get(row)).collect::<Float64Array>()),
        Kind::OptI64(get) => Arc::new(rows.iter().map(|&row| get(row)).collect::<Int64Array>()),
        Kind::OptF64(get) => Arc::new(rows.iter().map(|&row| get(row)).collect::<Float64Array>()),
        Kind::DateTime(get) => Arc::new(
            TimestampSecondArray::from_iter_values(rows.iter().map(|&row| i64::from(get(row))))
                .with_timezone("UTC"),
        ),
        Kind::Strings(get) => {
            let mut builder = ListBuilder::new(StringBuilder::new());
            for &row in rows {
                for item in get(row) {
                    builder.values().append_value(item);
                }
                builder.append(true);
            }
            Arc::new(builder.finish())
        }
        Kind::Bytes(get) => {
            let mut builder = BinaryBuilder::new();
            rows.iter().for_each(|&row| builder.append_value(get(row)));
            Arc::new(builder.finish())
        }
        Kind::Flags(get) => {
            let mut builder = ListBuilder::new(UInt8Builder::new());
            for &row in rows {
                builder.values().append_slice(get(row));
                builder.append(true);
            }
            Arc::new(builder.finish())
        }
        Kind::I64s(get) => {
            let mut builder = ListBuilder::new(Int64Builder::new());
            for &row in rows {
                builder.values().append_slice(get(row));
                builder.append(true);
            }
            Arc::new(builder.finish())
        }
    };
    Ok(array)
}
