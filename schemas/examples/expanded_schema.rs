//! Prints the expanded (self-contained) schema JSON of a catalog entry, pretty-printed.
//!
//! Used to write release snapshots (see schemas/README.md):
//!
//! ```text
//! cargo run -q -p sxfleet-schemas --example expanded_schema -- FleetEvent \
//!     > schemas/avro/released/FleetEvent.v1.avsc
//! ```
//!
//! With no argument, lists the catalog.

use std::process::ExitCode;

use sxfleet_schemas::{catalog, schema};

fn main() -> ExitCode {
    let Some(name) = std::env::args().nth(1) else {
        for entry in catalog::CATALOG {
            println!(
                "{:>5}  {:<13} v{}  {}",
                entry.id,
                entry.name,
                entry.version,
                entry.topic.unwrap_or("-")
            );
        }
        return ExitCode::SUCCESS;
    };
    let Some(entry) = catalog::by_name(&name) else {
        eprintln!("no schema named {name:?} in the catalog");
        return ExitCode::FAILURE;
    };
    // Pretty-print the parsed schema (not a `serde_json::Value`) to keep the natural key order.
    let pretty = schema(entry.id)
        .map_err(|e| e.to_string())
        .and_then(|schema| serde_json::to_string_pretty(schema).map_err(|e| e.to_string()));
    match pretty {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot expand {name}: {error}");
            ExitCode::FAILURE
        }
    }
}
