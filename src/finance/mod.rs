//! Finance master data and budgets: currencies and exchange rates, the fiscal
//! calendar, cost centers, cost types, the TBM taxonomy, vendors and services,
//! and budget versions with their lines.

pub mod calendar;
pub mod http;
pub mod settings;
