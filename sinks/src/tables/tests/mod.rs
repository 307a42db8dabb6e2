//! Unit tests of the tables: row building, DDL text, Arrow conversion.

mod arrow;
mod ddl;
mod federation;
mod rows;
