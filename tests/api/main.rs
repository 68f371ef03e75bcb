//! Black-box tests of the HTTP API: a real server, a real database (each test
//! runs on SQLite and on PostgreSQL), a real HTTP client.

mod support;

mod assets;
mod auth;
mod budgets;
mod cache;
mod demand;
mod errors;
mod evaluate;
mod finance;
mod integration_events;
mod ledger;
mod openapi;
mod plugins;
mod portfolio;
mod roi_models;
