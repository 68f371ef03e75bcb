//! IT assets and their lifecycle.

pub mod http;
