//! Host bindings of the `itbm:plugin` WIT package, one module per world. The
//! imported interfaces are generated once (with the connector world) and
//! shared by the other worlds, so the host implements each only once.

pub mod connector {
    wasmtime::component::bindgen!({
        world: "connector",
        path: "wit/itbm-plugin",
        // No `tracing` flag: it would log `get-secret` results.
        imports: { "itbm:plugin/http.send": async },
        exports: { default: async },
    });
}

pub mod roi_model {
    wasmtime::component::bindgen!({
        world: "roi-model",
        path: "wit/itbm-plugin",
        with: {
            "itbm:plugin/types": super::connector::itbm::plugin::types,
            "itbm:plugin/log": super::connector::itbm::plugin::log,
        },
        exports: { default: async },
    });
}

pub mod integration {
    wasmtime::component::bindgen!({
        world: "integration",
        path: "wit/itbm-plugin",
        with: {
            "itbm:plugin/types": super::connector::itbm::plugin::types,
            "itbm:plugin/http": super::connector::itbm::plugin::http,
            "itbm:plugin/log": super::connector::itbm::plugin::log,
            "itbm:plugin/config": super::connector::itbm::plugin::config,
            "itbm:plugin/clock": super::connector::itbm::plugin::clock,
        },
        exports: { default: async },
    });
}

pub use connector::itbm::plugin::{clock, config, http, log, types};
