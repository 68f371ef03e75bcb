//! TBM cost allocation, showback and chargeback, and cost reports.
//!
//! - [`split`]: splitting an amount by weights exactly (largest remainder).
//! - [`engine`]: the allocation of one period through the TBM layers, pure.
//! - [`rules`], [`drivers`]: the rule table and the driver quantities it reads.
//! - [`runs`]: allocation runs per fiscal period, stored with every flow, and
//!   the showback and chargeback statements made from them.
//! - [`columnar`]: the Parquet copy of the ledger per period that polars scans.
//! - [`reports`], [`export`], [`definitions`]: cost reports, their CSV,
//!   Parquet and XLSX exports, and saved report definitions.

pub mod columnar;
pub mod convert;
pub mod definitions;
pub mod drivers;
pub mod engine;
pub mod export;
pub mod http;
pub mod reports;
pub mod rules;
pub mod runs;
pub mod split;

pub use columnar::Columnar;
