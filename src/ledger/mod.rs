//! The canonical cost ledger that every source writes to.
//!
//! Manual entries, CSV imports and, later, connector plugins, depreciation runs
//! and TBM allocations all post through one function, [`post_lines`], so every
//! line in the ledger went through the same validation, got its fiscal period
//! from the same calendar, and is stored at most once per `(source, source_key)`.

pub mod http;
pub mod import;
mod lines;

pub use lines::*;
