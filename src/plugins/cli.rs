//! `itbm plugin ...`: the vendor's tools to make and check packages.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::Subcommand;
use ed25519_dalek::SigningKey;

use super::capabilities::{Granted, Grants};
use super::manifest::Manifest;
use super::package;
use super::runtime::{CallContext, ConnectorCall, ConnectorOutput, Runtime, RuntimeSettings};
use super::secrets::Secrets;

/// The WIT package, as this server serves it, for scaffolds.
const WIT: &[(&str, &str)] = &[
    ("types.wit", include_str!("../../wit/itbm-plugin/types.wit")),
    ("host.wit", include_str!("../../wit/itbm-plugin/host.wit")),
    ("worlds.wit", include_str!("../../wit/itbm-plugin/worlds.wit")),
];

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a connector crate in a new folder NAME: WIT, manifest, code.
    New {
        /// Only `connector` is scaffolded so far.
        #[arg(value_parser = ["connector"])]
        kind: String,
        name: String,
    },
    /// Build the plugin crate in the current folder for wasm32-wasip2 (release).
    Build,
    /// Call a plugin locally, in the same sandbox as the server: a connector's
    /// `spec`, `check`, `discover` or `read STREAM [--checkpoint C]`, or an
    /// ROI model's `describe` or `evaluate --input FILE`.
    Run {
        /// A package (`.itbmpkg`), signed or not.
        #[arg(long)]
        package: PathBuf,
        /// The instance configuration (JSON file; default `{}`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Secrets by name (JSON file of strings).
        #[arg(long)]
        secrets: Option<PathBuf>,
        /// Grants as an admin would give them (JSON file: http, networks, memory_mb, timeout_ms).
        #[arg(long)]
        grants: Option<PathBuf>,
        #[arg(value_parser = ["spec", "check", "discover", "read", "describe", "evaluate"])]
        operation: String,
        stream: Option<String>,
        #[arg(long)]
        checkpoint: Option<String>,
        /// `evaluate`'s input (JSON file): periods [{label, costs, benefits}],
        /// periods_per_year, discount_rate, currency, params; amounts as decimal strings.
        #[arg(long)]
        input: Option<PathBuf>,
    },
    /// Create a signing key: FILE holds the private key (mode 0600), FILE.pub
    /// the public key an admin trusts.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Package a component with its manifest, signed with a private key.
    Sign {
        /// The manifest (JSON).
        #[arg(long)]
        manifest: PathBuf,
        /// The component (`.wasm` built for wasm32-wasip2).
        #[arg(long)]
        component: PathBuf,
        /// Private key from `itbm plugin keygen`; without it the package is
        /// unsigned, for servers started with `--plugin-dev` only.
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a package: its framing, signature and manifest; prints its manifest.
    Verify {
        package: PathBuf,
        /// Also require the signer to be this public key (a `.pub` file or its base64).
        #[arg(long)]
        trusted_key: Option<String>,
    },
}

pub async fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::New { kind: _, name } => scaffold_connector(Path::new(&name)),
        PluginCommand::Build => {
            let status = std::process::Command::new("cargo").args(["build", "--release", "--target", "wasm32-wasip2"]).status()?;
            anyhow::ensure!(status.success(), "the build failed (is the target installed? rustup target add wasm32-wasip2)");
            // The component's path, wherever cargo's target directory is.
            let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
            let cargo_toml: toml::Value = toml::from_str(&std::fs::read_to_string("Cargo.toml")?)?;
            let name = cargo_toml.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()).unwrap_or("plugin");
            let built = target.join("wasm32-wasip2/release").join(format!("{}.wasm", name.replace('-', "_")));
            eprintln!("built:");
            println!("{}", built.display());
            Ok(())
        }
        PluginCommand::Run { package: path, config, secrets, grants, operation, stream, checkpoint, input } => {
            let package = package::read(&read(&path)?).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), describe(&e)))?;
            let manifest = Manifest::parse(&package.manifest).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), describe(&e)))?;
            let config: serde_json::Value = json_file(config.as_deref())?.unwrap_or_else(|| serde_json::json!({}));
            let secrets = Secrets(json_file(secrets.as_deref())?.unwrap_or_default());
            let grants: Grants = json_file(grants.as_deref())?.unwrap_or_default();
            let granted = Granted::resolve(&manifest.capabilities, &grants).map_err(|e| anyhow::anyhow!("grants: {}", describe(&e)))?;
            if matches!(operation.as_str(), "describe" | "evaluate") {
                return run_model(&package, &manifest, CallContext { config: config.to_string(), secrets, granted }, &operation, input.as_deref()).await;
            }
            let call = match operation.as_str() {
                "spec" => ConnectorCall::Spec,
                "check" => ConnectorCall::Check,
                "discover" => ConnectorCall::Discover,
                _ => ConnectorCall::Read {
                    stream: stream.ok_or_else(|| anyhow::anyhow!("read needs the name of a stream"))?,
                    checkpoint,
                },
            };
            let runtime = Runtime::new(&RuntimeSettings { cache_dir: None, max_instances: 1 })?;
            let prepared = runtime
                .prepare(manifest.kind, &package::sha256_hex(&package.component), &package.component)
                .await
                .map_err(|why| anyhow::anyhow!("{why}"))?;
            let context = CallContext { config: config.to_string(), secrets, granted };
            let report = runtime.call_connector(&prepared, context, call).await;
            for line in &report.logs {
                eprintln!("[{}] {}", line.level, line.message);
            }
            eprintln!("{:?}, peak memory {} bytes, fuel {:?}", report.duration, report.peak_memory_bytes, report.fuel_used);
            match report.result {
                Ok(ConnectorOutput::Spec(schema)) => println!("{schema}"),
                Ok(ConnectorOutput::Check) => println!("ok"),
                Ok(ConnectorOutput::Discover(streams)) => println!("{}", serde_json::to_string_pretty(&streams)?),
                Ok(ConnectorOutput::Read(page)) => println!("{}", serde_json::to_string_pretty(&page)?),
                Err(failure) => anyhow::bail!("{}: {failure}", failure.outcome()),
            }
            Ok(())
        }
        PluginCommand::Keygen { out } => {
            let key = package::generate_key();
            write_private(&out, &STANDARD.encode(key.to_bytes()))?;
            let public = package::encode_key(&key.verifying_key());
            let public_path = out.with_extension(extension_with_pub(&out));
            std::fs::write(&public_path, format!("{public}\n"))?;
            println!("{public}");
            eprintln!("private key: {} (keep it secret); public key: {}", out.display(), public_path.display());
            Ok(())
        }
        PluginCommand::Sign { manifest, component, key, out } => {
            let manifest_bytes = read(&manifest)?;
            Manifest::parse(&manifest_bytes).map_err(|e| anyhow::anyhow!("{}: {}", manifest.display(), describe(&e)))?;
            let component_bytes = read(&component)?;
            let key = key.map(|path| read_private(&path)).transpose()?;
            std::fs::write(&out, package::write(&manifest_bytes, &component_bytes, key.as_ref()))?;
            eprintln!("{} written ({})", out.display(), if key.is_some() { "signed" } else { "unsigned" });
            Ok(())
        }
        PluginCommand::Verify { package: path, trusted_key } => {
            let package = package::read(&read(&path)?).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), describe(&e)))?;
            let manifest = Manifest::parse(&package.manifest).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), describe(&e)))?;
            let signer = package.signer.as_ref().map(package::encode_key);
            if let Some(trusted) = trusted_key {
                let text = std::fs::read_to_string(&trusted).unwrap_or(trusted);
                let expected = package::decode_key(&text).ok_or_else(|| anyhow::anyhow!("the trusted key is not an Ed25519 public key"))?;
                anyhow::ensure!(package.signer == Some(expected), "the package is not signed by the trusted key");
            }
            println!("{}", serde_json::to_string_pretty(&manifest)?);
            eprintln!(
                "{}: {} {} ({}), component sha256 {}, {}",
                path.display(),
                manifest.id,
                manifest.version,
                manifest.kind,
                package::sha256_hex(&package.component),
                signer.map(|k| format!("signed by {k}")).unwrap_or_else(|| "unsigned".into())
            );
            Ok(())
        }
    }
}

fn json_file<T: serde::de::DeserializeOwned>(path: Option<&Path>) -> anyhow::Result<Option<T>> {
    path.map(|p| serde_json::from_slice(&read(p)?).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))).transpose()
}

/// `itbm plugin run` for an ROI model: prints the description or the evaluation as JSON.
async fn run_model(package: &package::Package, manifest: &Manifest, context: CallContext, operation: &str, input: Option<&Path>) -> anyhow::Result<()> {
    use super::runtime::{ModelCall, ModelInput, ModelOutput};
    #[derive(serde::Deserialize)]
    struct Period {
        label: String,
        costs: String,
        benefits: String,
    }
    #[derive(serde::Deserialize)]
    struct Input {
        periods: Vec<Period>,
        #[serde(default = "one")]
        periods_per_year: u8,
        discount_rate: String,
        currency: String,
        #[serde(default)]
        params: Option<serde_json::Value>,
    }
    fn one() -> u8 {
        1
    }
    let call = if operation == "describe" {
        ModelCall::Describe
    } else {
        let input: Input = json_file(input)?.ok_or_else(|| anyhow::anyhow!("evaluate needs --input FILE"))?;
        ModelCall::Evaluate(ModelInput {
            periods: input.periods.into_iter().map(|p| (p.label, p.costs, p.benefits)).collect(),
            periods_per_year: input.periods_per_year,
            discount_rate: input.discount_rate,
            currency: input.currency,
            params: input.params.unwrap_or_else(|| serde_json::json!({})).to_string(),
        })
    };
    let runtime = Runtime::new(&RuntimeSettings { cache_dir: None, max_instances: 1 })?;
    let prepared = runtime
        .prepare(manifest.kind, &package::sha256_hex(&package.component), &package.component)
        .await
        .map_err(|why| anyhow::anyhow!("{why}"))?;
    let report = runtime.call_model(&prepared, context, call).await;
    for line in &report.logs {
        eprintln!("[{}] {}", line.level, line.message);
    }
    eprintln!("{:?}, peak memory {} bytes, fuel {:?}", report.duration, report.peak_memory_bytes, report.fuel_used);
    match report.result {
        Ok(ModelOutput::Describe(d)) => println!("{}", serde_json::to_string_pretty(&d)?),
        Ok(ModelOutput::Evaluate(e)) => {
            let metrics: Vec<_> = e.metrics.iter().map(|(name, value, unit)| serde_json::json!({ "name": name, "value": value, "unit": unit })).collect();
            let percentiles: Vec<_> = e.percentiles.iter().map(|(metric, rank, value)| serde_json::json!({ "metric": metric, "rank": rank, "value": value })).collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "metrics": metrics, "percentiles": percentiles, "explanation": e.explanation }))?);
        }
        Err(failure) => anyhow::bail!("{}: {failure}", failure.outcome()),
    }
    Ok(())
}

/// A connector crate that builds as it is: WIT, manifest, code.
fn scaffold_connector(dir: &Path) -> anyhow::Result<()> {
    let name = dir.file_name().and_then(|n| n.to_str()).ok_or_else(|| anyhow::anyhow!("name the new folder"))?;
    anyhow::ensure!(!dir.exists(), "{} exists already", dir.display());
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::create_dir_all(dir.join("wit/itbm-plugin"))?;
    for (file, text) in WIT {
        std::fs::write(dir.join("wit/itbm-plugin").join(file), text)?;
    }
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nwit-bindgen = \"0.63\"\nserde_json = \"1\"\n\n\
             [profile.release]\nopt-level = \"s\"\nlto = true\nstrip = true\n\n# A crate of its own, even inside another workspace.\n[workspace]\n"
        ),
    )?;
    let manifest = serde_json::json!({
        "id": format!("com.example.{}", name.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-")),
        "name": name,
        "version": "0.1.0",
        "vendor": "Example",
        "kind": "connector",
        "wit_version": "0.1.0",
        "capabilities": { "http": ["https://api.example.com", "http://127.0.0.1:*"], "secrets": ["token"], "memory_mb": 32 },
        "configuration_schema": { "type": "object", "required": ["base_url"], "properties": { "base_url": { "type": "string" } } }
    });
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest)? + "\n")?;
    std::fs::write(dir.join("src/lib.rs"), CONNECTOR_TEMPLATE)?;
    eprintln!("created {}: edit src/lib.rs and manifest.json, then `itbm plugin build` there", dir.display());
    Ok(())
}

const CONNECTOR_TEMPLATE: &str = r##"//! A connector for itbm: `check` GETs `{base_url}/health` with the `token` secret.

wit_bindgen::generate!({ path: "wit/itbm-plugin", world: "connector" });

use exports::itbm::plugin::source::{Guest, Page, StreamInfo};
use itbm::plugin::types::PluginError;
use itbm::plugin::{config, http, log};

struct Connector;

fn base_url() -> Result<String, PluginError> {
    let settings: serde_json::Value =
        serde_json::from_str(&config::get_config()).map_err(|e| PluginError::Configuration(e.to_string()))?;
    settings["base_url"].as_str().map(|u| u.trim_end_matches('/').to_owned()).ok_or_else(|| PluginError::Configuration("base_url is missing".into()))
}

impl Guest for Connector {
    fn spec() -> String {
        r#"{"type": "object", "required": ["base_url"], "properties": {"base_url": {"type": "string"}}}"#.into()
    }

    fn check() -> Result<(), PluginError> {
        let mut headers = vec![];
        if let Some(token) = config::get_secret("token") {
            headers.push(("authorization".to_owned(), format!("Bearer {token}")));
        }
        let request = http::Request { method: http::Method::Get, url: format!("{}/health", base_url()?), headers, body: None };
        match http::send(&request) {
            Ok(response) if (200..300).contains(&response.status) => {
                log::log(log::Level::Info, "the source answered");
                Ok(())
            }
            Ok(response) if matches!(response.status, 401 | 403) => Err(PluginError::Configuration("the token was refused".into())),
            Ok(response) => Err(PluginError::Connector(format!("status {}", response.status))),
            Err(e) => Err(PluginError::Connector(format!("{e:?}"))),
        }
    }

    fn discover() -> Result<Vec<StreamInfo>, PluginError> {
        Ok(vec![])
    }

    fn read(stream_name: String, _checkpoint: Option<String>) -> Result<Page, PluginError> {
        Err(PluginError::InvalidInput(format!("no stream named {stream_name:?}")))
    }
}

export!(Connector);
"##;

fn extension_with_pub(path: &Path) -> String {
    match path.extension() {
        Some(ext) => format!("{}.pub", ext.to_string_lossy()),
        None => "pub".into(),
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

fn read_private(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let bytes: [u8; 32] = STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow::anyhow!("{} is not a private key from `itbm plugin keygen`", path.display()))?;
    Ok(SigningKey::from_bytes(&bytes))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// A refusal as one line: each field and what is wrong with it.
fn describe(error: &crate::error::Error) -> String {
    match error {
        crate::error::Error::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.pointer.as_deref().unwrap_or(""), e.detail))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
