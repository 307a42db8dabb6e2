//! A query's answer as text, the same from both backends: ClickHouse's `JSONCompact` and
//! DataFusion's Arrow record batches normalized cell by cell, so that the answers of a query
//! and of its twin compare as values (`tests/embedded.rs`) and a page shows the same figures
//! whichever backend it reads.
//!
//! Each cell is normalized text:
//! - NULL is [`NULL`]; so is a non-finite float (ClickHouse's JSON writes `nan` and `inf` as
//!   null);
//! - an integer is its decimal digits, whatever its width or sign (ClickHouse's JSON quotes
//!   64-bit integers, which reads the same);
//! - a float is rounded to 6 decimals, trailing zeros and point dropped, so `45` and `45.0`
//!   agree (summation order may differ between engines in the last bits, never at 6 decimals);
//! - text, an Enum8 symbol included, is itself;
//! - `DateTime('UTC')` and `Timestamp(Second, "UTC")` are `YYYY-MM-DD hh:mm:ss`;
//! - an array is `[a, b]` of its normalized items.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::Value;

/// How a NULL cell reads.
pub const NULL: &str = "NULL";

/// A result: column names, then each row's normalized cells (see the module header).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    /// The column names, in `SELECT` order.
    pub columns: Vec<String>,
    /// The rows, each with one cell per column.
    pub rows: Vec<Vec<String>>,
}

/// A result that is not the shape its format promises (a bug on the server or here).
#[derive(Debug, thiserror::Error)]
pub enum AnswerShapeError {
    /// ClickHouse's body is not `JSONCompact`.
    #[error("not a JSONCompact answer: {0}")]
    Json(String),
    /// An Arrow column cannot be formatted.
    #[error("an Arrow cell cannot be formatted")]
    Arrow(#[from] ArrowError),
}

impl Answer {
    /// The answer in a ClickHouse `JSONCompact` body.
    ///
    /// # Errors
    /// [`AnswerShapeError::Json`] when `body` is not JSON with `meta` and `data` arrays.
    pub fn from_json_compact(body: &[u8]) -> Result<Self, AnswerShapeError> {
        let json: Value =
            serde_json::from_slice(body).map_err(|e| AnswerShapeError::Json(e.to_string()))?;
        let missing = |what: &str| AnswerShapeError::Json(format!("no {what} array"));
        let columns = json["meta"]
            .as_array()
            .ok_or_else(|| missing("meta"))?
            .iter()
            .map(|column| column["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        let rows = json["data"]
            .as_array()
            .ok_or_else(|| missing("data"))?
            .iter()
            .map(|row| {
                let cells = row.as_array().map(Vec::as_slice).unwrap_or_default();
                cells.iter().map(json_cell).collect()
            })
            .collect();
        Ok(Self { columns, rows })
    }

    /// The answer in DataFusion's record batches.
    ///
    /// # Errors
    /// [`AnswerShapeError::Arrow`] for a column Arrow cannot display.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Self, AnswerShapeError> {
        let columns = batches
            .first()
            .map(|batch| {
                let schema = batch.schema();
                schema.fields().iter().map(|f| f.name().clone()).collect()
            })
            .unwrap_or_default();
        let mut rows = Vec::new();
        for batch in batches {
            for row in 0..batch.num_rows() {
                let cells = batch.columns().iter().map(|c| arrow_cell(c.as_ref(), row));
                rows.push(cells.collect::<Result<Vec<_>, _>>()?);
            }
        }
        Ok(Self { columns, rows })
    }

    /// Where column `name` is, if the answer has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == name)
    }

    /// The cell of column `name` in row `row`, if both exist.
    pub fn cell(&self, row: usize, name: &str) -> Option<&str> {
        let at = self.column(name)?;
        self.rows.get(row)?.get(at).map(String::as_str)
    }
}

/// A float as the answers show it (see the module header).
pub fn float(value: f64) -> String {
    if !value.is_finite() {
        return NULL.to_owned();
    }
    let fixed = format!("{value:.6}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    match trimmed {
        "-0" => "0".to_owned(),
        other => other.to_owned(),
    }
}

fn json_cell(value: &Value) -> String {
    match value {
        Value::Null => NULL.to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            (None, None) => float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(json_cell).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

fn arrow_cell(array: &dyn Array, row: usize) -> Result<String, ArrowError> {
    if array.is_null(row) {
        return Ok(NULL.to_owned());
    }
    Ok(match array.data_type() {
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            let items: Vec<String> = (0..items.len())
                .map(|i| arrow_cell(items.as_ref(), i))
                .collect::<Result<_, _>>()?;
            format!("[{}]", items.join(", "))
        }
        _ => {
            let time = Some("%Y-%m-%d %H:%M:%S");
            let options = FormatOptions::default()
                .with_timestamp_format(time)
                .with_timestamp_tz_format(time);
            ArrayFormatter::try_new(array, &options)?
                .value(row)
                .to_string()
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn floats_round_to_six_decimals_without_trailing_zeros() {
        assert_eq!(float(45.0), "45");
        assert_eq!(float(0.1 + 0.2), "0.3");
        assert_eq!(float(-0.000_000_1), "0");
        assert_eq!(float(f64::NAN), NULL);
        assert_eq!(float(72.5), "72.5");
    }

    #[test]
    fn both_formats_read_alike() {
        let json = br#"{"meta":[{"name":"n","type":"UInt64"},{"name":"s","type":"Float64"},
            {"name":"id","type":"String"},{"name":"a","type":"Array(String)"}],
            "data":[["18446744073709551615",45,"x",["p","q"]],[1,null,"y",[]]],"rows":2}"#;
        let from_json = Answer::from_json_compact(json).unwrap();
        assert_eq!(
            from_json.rows,
            [
                vec!["18446744073709551615", "45", "x", "[p, q]"],
                vec!["1", NULL, "y", "[]"]
            ]
        );
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Float64, true),
            Field::new("id", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![7, 1])),
                Arc::new(Float64Array::from(vec![Some(45.0), None])),
                Arc::new(StringArray::from(vec!["x", "y"])),
            ],
        )
        .unwrap();
        let from_arrow = Answer::from_batches(&[batch]).unwrap();
        assert_eq!(from_arrow.columns, ["n", "s", "id"]);
        assert_eq!(
            from_arrow.rows,
            [vec!["7", "45", "x"], vec!["1", NULL, "y"]]
        );
        assert_eq!(from_arrow.cell(1, "id"), Some("y"));
        assert_eq!(from_arrow.cell(2, "id"), None);
        assert_eq!(from_arrow.cell(0, "nope"), None);
        assert!(Answer::from_json_compact(b"[]").is_err());
    }
}
