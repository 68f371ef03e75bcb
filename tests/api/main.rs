//! Black-box tests of the HTTP API: a real server, a real database (each test
//! runs on SQLite and on PostgreSQL), a real HTTP client.

mod support;

mod assets;
mod auth;
mod budget_analytics;
mod budgets;
mod cache;
mod connectors;
mod costs;
mod demand;
mod depreciation;
mod errors;
mod evaluate;
mod finance;
mod integration_events;
mod ledger;
mod lifecycle_cost;
mod openapi;
mod plugins;
mod portfolio;
mod prioritisation;
mod roi_models;
mod sync;
