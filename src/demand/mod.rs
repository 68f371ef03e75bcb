//! Demand intake: ideas with a business case, reviewed and approved into projects.

pub mod http;
