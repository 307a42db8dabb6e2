//! The command machine of one node (`docs/projections.md`, "Commands"): acceptance, hold and
//! release, delivery with retries or at most once, acknowledgements, expiry and retention.
//! Commands are kept per (node, idempotency key) in the node's [`CommandBook`]; every status
//! change is a `CommandStatus` record and every publication a `Command` record, returned in an
//! [`Outcome`] with the lifecycle steps the caller applies ([`CommandAction`]). Pure: time is
//! the command's or ack's event time, or a timer instant.
//!
//! Layout: `book` (the [`CommandBook`] and its commands), `config` (timers, [`CommandConfig`]), `gate` (may a command go now:
//! [`Gate`]), `window` (maintenance windows), `records` (the status and delivery records),
//! `machine` (acceptance, acks, release), `rollout` (rollout UPDATEs), `writer` (a status change or publication), `timers` (retries, LOST, expiry, decommission timeout).

pub use self::book::{CommandBook, Outcome, Tracked};
pub use self::config::CommandConfig;
pub use self::gate::Hold;
pub use self::gate::{Constraints, Gate};
pub use self::machine::{target_rejection, Origin};
pub use self::records::unplaced;
pub use self::window::{Window, WindowError};

mod book;
mod config;
mod gate;
mod machine;
mod records;
mod rollout;
mod timers;
mod window;
mod writer;

#[cfg(test)]
mod tests;
