//! The operator UI of the fleet pipeline: server-rendered HTML pages over the SQL cookbook's
//! queries (`docs/sql-cookbook.md`), on ClickHouse or on the Parquet tables, each page with a
//! JSON twin (its page model). Seed 004's three layers: the global overview (`/`), a domain
//! (`/domains/{id}`) and a node (`/nodes/{id}`). No script, nothing fetched from elsewhere at
//! run time: the one stylesheet is embedded and charts are SVG drawn on the server. See
//! `docs/ui.md`.
//!
//! Layout:
//! - [`config`]: [`UiConfig`] (address, token, TLS, timeout) and the rule that a non-loopback
//!   address needs a token or TLS.
//! - [`html`]: the escaping HTML writer (every text and attribute escaped in one place).
//! - [`svg`]: stacked bar, heat map, sparkline, progress bar.
//! - [`pages`]: per page, a pure function from cookbook answers to a page model (the JSON twin)
//!   and one from the model to HTML; the error pages.
//! - [`request`]: what a request asks for (JSON or HTML, its id, the node table's page),
//!   checked.
//! - [`server`]: the axum router and [`serve`] (binds, port 0 works, returns the address).

pub mod config;
pub mod html;
pub mod pages;
pub mod request;
pub mod server;
pub mod svg;

pub use config::{UiConfig, UiConfigError};
pub use server::{router, serve, Serving, UiError};
