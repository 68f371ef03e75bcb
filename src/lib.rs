//! `itbm`: an IT Business Management server.
//!
//! The crate is organised by domain; each domain module holds its model, its
//! SQL and (in `http.rs`) its routes:
//! - [`portfolio`]: portfolios, programs, projects, strategic goals;
//! - [`finance`]: currencies, rates, fiscal calendar, cost centers and types,
//!   the TBM taxonomy, budgets;
//! - [`prioritisation`]: scoring frameworks, scenarios and the exact
//!   portfolio optimiser;
//! - [`costs`]: TBM cost allocation, showback and chargeback, cost reports;
//! - [`audit`]: the append-only change log;
//! - [`plugins`]: sandboxed WebAssembly plugins (connectors, ROI models, integrations);
//! - [`sync`]: the sync engine that runs connectors into the core model.
//!
//! Cross-cutting pieces: [`db`] (one SQL text for SQLite and PostgreSQL),
//! [`auth`] (JWT and roles), [`http`] (router, problem+json, extractors),
//! [`listing`] (pagination, filters, sorting), [`validate`].

pub mod assets;
pub mod audit;
pub mod auth;
pub mod config;
pub mod costs;
pub mod db;
pub mod demand;
pub mod demo;
pub mod error;
pub mod finance;
pub mod http;
pub mod ledger;
pub mod lifecycle;
pub mod listing;
pub mod patch;
pub mod plugins;
pub mod portfolio;
pub mod prioritisation;
pub mod refs;
pub mod server;
pub mod sync;
mod text_enum;
pub mod validate;
