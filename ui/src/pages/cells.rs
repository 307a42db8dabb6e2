//! Reading the cells of a cookbook answer as typed values. A missing column or a cell that is
//! not what the query promises is a [`ShapeError`]: the cookbook and the page disagree (a bug),
//! answered 500 with a plain message.

use sxfleet_sinks::answer::NULL;
use sxfleet_sinks::Answer;

/// A cookbook answer that does not have the shape its page reads.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("cookbook query {query}: {problem}")]
pub struct ShapeError {
    /// The query's name.
    pub query: &'static str,
    /// What was wrong.
    pub problem: String,
}

/// One row of a named answer.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    query: &'static str,
    answer: &'a Answer,
    index: usize,
}

/// The rows of `answer`, the answer of cookbook query `query`.
pub fn rows<'a>(query: &'static str, answer: &'a Answer) -> impl Iterator<Item = Row<'a>> {
    (0..answer.rows.len()).map(move |index| Row {
        query,
        answer,
        index,
    })
}

/// The first row of `answer`, if any.
pub fn first<'a>(query: &'static str, answer: &'a Answer) -> Option<Row<'a>> {
    rows(query, answer).next()
}

impl<'a> Row<'a> {
    fn error(&self, problem: String) -> ShapeError {
        ShapeError {
            query: self.query,
            problem,
        }
    }

    /// The cell of `column` as text.
    ///
    /// # Errors
    /// [`ShapeError`] when the answer has no such column.
    pub fn text(&self, column: &str) -> Result<&'a str, ShapeError> {
        self.answer
            .cell(self.index, column)
            .ok_or_else(|| self.error(format!("no column {column}")))
    }

    /// The cell of `column` as owned text.
    ///
    /// # Errors
    /// As [`Row::text`].
    pub fn string(&self, column: &str) -> Result<String, ShapeError> {
        self.text(column).map(str::to_owned)
    }

    /// The cell of `column` as an integer, `None` for NULL.
    ///
    /// # Errors
    /// [`ShapeError`] for a missing column or a cell that is not an integer.
    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, ShapeError> {
        match self.text(column)? {
            NULL => Ok(None),
            text => text
                .parse()
                .map(Some)
                .map_err(|_| self.error(format!("{column} = {text:?} is not an integer"))),
        }
    }

    /// The cell of `column` as an integer.
    ///
    /// # Errors
    /// As [`Row::opt_int`], and for NULL.
    pub fn int(&self, column: &str) -> Result<i64, ShapeError> {
        self.opt_int(column)?
            .ok_or_else(|| self.error(format!("{column} is NULL")))
    }

    /// The cell of `column` as a number, `None` for NULL.
    ///
    /// # Errors
    /// [`ShapeError`] for a missing column or a cell that is not a number.
    pub fn opt_float(&self, column: &str) -> Result<Option<f64>, ShapeError> {
        match self.text(column)? {
            NULL => Ok(None),
            text => text
                .parse()
                .map(Some)
                .map_err(|_| self.error(format!("{column} = {text:?} is not a number"))),
        }
    }

    /// The cell of `column` as a number.
    ///
    /// # Errors
    /// As [`Row::opt_float`], and for NULL.
    pub fn float(&self, column: &str) -> Result<f64, ShapeError> {
        self.opt_float(column)?
            .ok_or_else(|| self.error(format!("{column} is NULL")))
    }

    /// The cell of `column` as a truth value (`1` / `0`, `true` / `false`).
    ///
    /// # Errors
    /// [`ShapeError`] for a missing column or another value.
    pub fn flag(&self, column: &str) -> Result<bool, ShapeError> {
        match self.text(column)? {
            "1" | "true" => Ok(true),
            "0" | "false" => Ok(false),
            other => Err(self.error(format!("{column} = {other:?} is not a flag"))),
        }
    }

    /// The cell of `column` as a list (`[a, b]`, as answers write arrays).
    ///
    /// # Errors
    /// [`ShapeError`] for a missing column or a cell that is not a list.
    pub fn list(&self, column: &str) -> Result<Vec<String>, ShapeError> {
        let text = self.text(column)?;
        let inner = text
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .ok_or_else(|| self.error(format!("{column} = {text:?} is not a list")))?;
        if inner.is_empty() {
            return Ok(Vec::new());
        }
        Ok(inner.split(", ").map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer() -> Answer {
        Answer {
            columns: ["n", "f", "l", "b", "t"].map(str::to_owned).to_vec(),
            rows: vec![
                ["4", "72.5", "[a, b]", "1", "x"]
                    .map(str::to_owned)
                    .to_vec(),
                [NULL, NULL, "[]", "false", "y"].map(str::to_owned).to_vec(),
            ],
        }
    }

    #[test]
    fn cells_read_as_their_types() {
        let answer = answer();
        let all: Vec<Row> = rows("q", &answer).collect();
        assert_eq!(all[0].int("n"), Ok(4));
        assert_eq!(all[0].float("f"), Ok(72.5));
        assert_eq!(all[0].float("n"), Ok(4.0));
        assert_eq!(all[0].list("l"), Ok(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(all[0].flag("b"), Ok(true));
        assert_eq!(all[1].opt_int("n"), Ok(None));
        assert_eq!(all[1].list("l"), Ok(Vec::new()));
        assert_eq!(all[1].flag("b"), Ok(false));
        assert!(all[1].int("n").is_err());
        assert!(all[0].int("f").is_err());
        assert!(all[0].text("nope").is_err());
        assert!(all[0].list("t").is_err());
        assert_eq!(first("q", &answer).map(|r| r.text("t")), Some(Ok("x")));
    }
}
