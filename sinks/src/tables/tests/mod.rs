//! Unit tests of the tables: row building, DDL text, Arrow conversion.

mod arrow;
mod commands;
mod ddl;
mod federation;
mod rows;
