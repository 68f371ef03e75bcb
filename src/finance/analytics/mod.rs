//! Budget analytics and project financials: budget versus forecast versus
//! actual with variance, burn rate, run-rate forecast and EAC
//! ([`variance`]), and time-phased project and demand costs and benefits from
//! plans, budgets and the ledger ([`project_financials`]).

pub mod http;
pub mod project_financials;
pub mod variance;
