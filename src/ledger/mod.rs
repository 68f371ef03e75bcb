//! The canonical cost ledger that every source writes to.

pub mod http;
