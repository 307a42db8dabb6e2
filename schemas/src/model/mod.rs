//! Rust types of the canonical schemas.
//!
//! Mapping rules (apache-avro 0.22 serde path):
//! - Every Rust record struct has the Avro record's name (the deserializer checks it).
//! - Avro `long` is `i64`, `int` is `i32`, `double` is `f64`; `timestamp-millis` fields are
//!   [`EpochMillis`].
//! - `["null", T]` is `Option<T>`; arrays are `Vec<T>`; maps are `BTreeMap<String, _>` so the
//!   encoded bytes do not depend on hash order (a replay must produce identical output).
//! - `bytes` fields use `#[serde(with = "apache_avro::serde::bytes")]`; a plain `Vec<u8>` would
//!   serialize as an array of ints.
//! - Avro enums are unit-variant Rust enums declared with the `avro_enum!` macro (see
//!   [`AvroEnum`]): variants in symbol order, each renamed to its symbol.
//! - Envelope records (one nullable field per payload, named by a `kind` enum) are declared
//!   with the `payload_union!` macro: a payload enum for the domain type, and a generated wire
//!   record with its conversions.

use std::collections::BTreeMap;

pub mod command;
pub mod common;
pub mod control_event;
pub mod dead_letter;
pub mod federation;
pub mod fleet_event;
pub mod node;
pub mod objects;
pub mod outputs;
mod payload_union;
pub mod transition;

/// Milliseconds since the Unix epoch, UTC (Avro `timestamp-millis`).
pub type EpochMillis = i64;

/// Avro `map<string>`. Values that come from JSON are the JSON value rendered as text: strings
/// unquoted, everything else (numbers, booleans, null, arrays, objects) as compact JSON text.
pub type StringMap = BTreeMap<String, String>;

/// A Rust enum that mirrors an Avro enum.
pub trait AvroEnum: Copy + Eq + 'static {
    /// Unqualified Avro name of the enum.
    const AVRO_NAME: &'static str;
    /// Every variant, in Avro symbol order.
    const ALL: &'static [Self];
    /// The Avro symbol of this variant.
    fn symbol(self) -> &'static str;
    /// The variant with this symbol, if any.
    fn from_symbol(symbol: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.symbol() == symbol)
    }
}

/// Declares a Rust enum mirroring an Avro enum: `Variant = "SYMBOL"` in symbol order.
macro_rules! avro_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $symbol:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $symbol)] $variant ),+
        }

        impl $name {
            /// The Avro symbol of this variant.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $symbol ),+
                }
            }
        }

        impl $crate::model::AvroEnum for $name {
            const AVRO_NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = &[$( $name::$variant ),+];
            fn symbol(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use avro_enum;
