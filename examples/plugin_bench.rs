//! Benchmark of the plugin runtime with the built-in ROI models (see
//! bench/plugins.md): `cargo run --release --example plugin_bench`.
//!
//! - compile time of each built-in: cold (no cache), and from wasmtime's
//!   on-disk cache in a new engine, as after a restart;
//! - `roi-dcf` on a 5-year project, one call at a time: wall time per call
//!   including the instance slot, a fresh store, instantiation and the call;
//! - evaluations per second with all cores busy (tokio, one worker per core).

use std::sync::Arc;
use std::time::{Duration, Instant};

use itbm::plugins::builtin::BUILTINS;
use itbm::plugins::capabilities::{Granted, Grants};
use itbm::plugins::manifest::Manifest;
use itbm::plugins::package::{self, sha256_hex};
use itbm::plugins::runtime::{CallContext, ModelCall, ModelInput, ModelOutput, Prepared, Runtime, RuntimeSettings};
use itbm::plugins::secrets::Secrets;

struct Plugin {
    manifest: Manifest,
    component: Vec<u8>,
}

fn builtins() -> Vec<Plugin> {
    BUILTINS
        .iter()
        .map(|b| {
            let package = package::read(b.package).expect("a valid built-in");
            Plugin { manifest: Manifest::parse(&package.manifest).expect("a valid manifest"), component: package.component }
        })
        .collect()
}

fn context(manifest: &Manifest) -> CallContext {
    let granted = Granted::resolve(&manifest.capabilities, &Grants::default()).expect("default grants");
    CallContext { config: "{}".into(), secrets: Secrets::default(), granted }
}

fn five_years(params: &str) -> ModelCall {
    let flows = [("40000", "0"), ("5000", "5000"), ("5000", "18000"), ("5000", "22000"), ("5000", "30000")];
    ModelCall::Evaluate(ModelInput {
        periods: flows.iter().enumerate().map(|(i, (c, b))| (format!("FY{}", 2027 + i), c.to_string(), b.to_string())).collect(),
        periods_per_year: 1,
        discount_rate: "0.08".into(),
        currency: "EUR".into(),
        params: params.into(),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(cores).enable_all().build()?;
    tokio.block_on(run(cores))
}

async fn run(cores: usize) -> anyhow::Result<()> {
    let plugins = builtins();
    let profile = if cfg!(debug_assertions) { "DEBUG build (figures not representative)" } else { "release build" };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| info.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned()))
        .unwrap_or_default();
    println!("machine: {cores} cores ({cpu}); wasmtime 48; {profile}");

    // Compile times.
    for plugin in &plugins {
        let sha = sha256_hex(&plugin.component);
        let mut cold = Vec::new();
        let mut cached = Vec::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir()?;
            let settings = RuntimeSettings { cache_dir: Some(dir.path().to_owned()), max_instances: 16 };
            let first = Runtime::new(&settings)?;
            let started = Instant::now();
            first.prepare(plugin.manifest.kind, &sha, &plugin.component).await.map_err(anyhow::Error::msg)?;
            cold.push(started.elapsed());
            drop(first);
            // wasmtime writes its cache in the background; give it a moment.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let restarted = Runtime::new(&settings)?;
            let started = Instant::now();
            restarted.prepare(plugin.manifest.kind, &sha, &plugin.component).await.map_err(anyhow::Error::msg)?;
            cached.push(started.elapsed());
        }
        cold.sort();
        cached.sort();
        println!(
            "compile {} ({} KiB): cold median {:?} (min {:?}), from the cache median {:?} (min {:?})",
            plugin.manifest.id,
            plugin.component.len() / 1024,
            cold[cold.len() / 2],
            cold[0],
            cached[cached.len() / 2],
            cached[0]
        );
    }

    let runtime = Arc::new(Runtime::new(&RuntimeSettings { cache_dir: None, max_instances: 64 })?);
    println!("pooling allocator: {}", runtime.uses_pooling());
    let dcf = plugins.iter().find(|p| p.manifest.id == "roi-dcf").expect("roi-dcf is built in");
    let prepared: Arc<Prepared> =
        runtime.prepare(dcf.manifest.kind, &sha256_hex(&dcf.component), &dcf.component).await.map_err(anyhow::Error::msg)?;

    // One call at a time.
    let calls = 20_000;
    for _ in 0..1_000 {
        runtime.call_model(&prepared, context(&dcf.manifest), five_years("{}")).await.result.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut times = Vec::with_capacity(calls);
    let mut fuel = 0;
    for _ in 0..calls {
        let started = Instant::now();
        let report = runtime.call_model(&prepared, context(&dcf.manifest), five_years("{}")).await;
        times.push(started.elapsed());
        fuel = report.fuel_used.unwrap_or(0);
        assert!(matches!(report.result, Ok(ModelOutput::Evaluate(_))));
    }
    times.sort();
    println!(
        "roi-dcf, 5-year project, one call at a time ({calls} calls): p50 {:?}, p90 {:?}, p99 {:?}, max {:?}; fuel {fuel} per call",
        percentile(&times, 0.5),
        percentile(&times, 0.9),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );

    // All cores busy.
    for concurrency in [cores, cores * 4] {
        let until = Instant::now() + Duration::from_secs(5);
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (runtime, prepared) = (runtime.clone(), prepared.clone());
            let manifest = dcf.manifest.clone();
            tasks.push(tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < until {
                    let report = runtime.call_model(&prepared, context(&manifest), five_years("{}")).await;
                    assert!(report.result.is_ok());
                    done += 1;
                }
                done
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await?;
        }
        println!("roi-dcf throughput, {concurrency} concurrent callers on {cores} cores: {} evaluations/s", total / 5);
    }

    // The Monte Carlo model, for scale.
    if let Some(mc) = plugins.iter().find(|p| p.manifest.id == "roi-montecarlo") {
        let prepared = runtime.prepare(mc.manifest.kind, &sha256_hex(&mc.component), &mc.component).await.map_err(anyhow::Error::msg)?;
        let mut times = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            let report = runtime.call_model(&prepared, context(&mc.manifest), five_years(r#"{"runs": 10000, "seed": 1}"#)).await;
            times.push(started.elapsed());
            assert!(report.result.is_ok());
        }
        times.sort();
        println!("roi-montecarlo, 5 years x 10,000 runs: median {:?}", times[times.len() / 2]);
    }
    Ok(())
}
