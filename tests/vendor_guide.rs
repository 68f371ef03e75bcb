//! The vendor guide (`plugins/README.md`), followed from an empty folder with
//! the real `itbm` binary: scaffold a connector, build it, make a key, sign,
//! start a server that trusts the key, install, create an instance granted a
//! local host, and see `check` succeed.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ITBM: &str = env!("CARGO_BIN_EXE_itbm");

fn itbm(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(ITBM).args(args).current_dir(dir).output().expect("itbm runs");
    assert!(output.status.success(), "itbm {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// A source that answers 200 to everything, on loopback.
fn source() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
    addr
}

#[test]
fn a_newcomer_scaffolds_builds_signs_and_installs_a_connector_whose_check_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    itbm(root, &["plugin", "new", "connector", "acme-items"]);
    let crate_dir = root.join("acme-items");

    // Built in the guest target directory the API tests use, to stay fast.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("wasm-plugins");
    let built = Command::new(ITBM).args(["plugin", "build"]).current_dir(&crate_dir).env("CARGO_TARGET_DIR", &target).output().unwrap();
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    let component = String::from_utf8(built.stdout).unwrap().trim().to_owned();
    assert!(Path::new(&component).exists(), "{component}");

    let public = itbm(root, &["plugin", "keygen", "--out", "vendor.key"]);
    itbm(root, &["plugin", "sign", "--manifest", "acme-items/manifest.json", "--component", &component, "--key", "vendor.key", "--out", "acme.itbmpkg"]);
    let verified = itbm(root, &["plugin", "verify", "acme.itbmpkg", "--trusted-key", public.trim()]);
    assert!(verified.contains("com.example.acme-items"), "{verified}");

    // The server trusts the vendor's key from the start.
    let mut server = Command::new(ITBM)
        .args(["serve", "--listen", "127.0.0.1:0", "--trusted-key", "vendor.key.pub"])
        .current_dir(root)
        .env_remove("ITBM_DATA_DIR")
        .env_remove("ITBM_DATABASE_URL")
        .env("ITBM_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("itbm serves").unwrap();
        if line.contains("itbm is serving") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            break log["fields"]["address"].as_str().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));

    let token = itbm(root, &["token", "--role", "admin", "--sub", "newcomer"]);
    let client = reqwest::blocking::Client::new();
    let api = |path: &str| format!("http://{address}/api/v1{path}");
    let installed: serde_json::Value = client
        .post(api("/plugins"))
        .bearer_auth(token.trim())
        .header("content-type", "application/octet-stream")
        .body(std::fs::read(root.join("acme.itbmpkg")).unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(installed["signed_by"].is_string(), "{installed}");

    let source = source();
    let instance: serde_json::Value = client
        .post(api("/plugin-instances"))
        .bearer_auth(token.trim())
        .json(&serde_json::json!({
            "plugin_id": installed["id"], "name": "Acme",
            "config": { "base_url": format!("http://{source}") },
            "grants": { "http": [format!("http://{source}")], "networks": ["127.0.0.1/32"] }
        }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let checked: serde_json::Value = client
        .post(api(&format!("/plugin-instances/{}/check", instance["id"].as_str().expect("an instance"))))
        .bearer_auth(token.trim())
        .send()
        .unwrap()
        .json()
        .unwrap();
    server.kill().unwrap();
    assert_eq!(checked["outcome"], "ok", "{checked}");
}

#[test]
fn an_roi_model_is_evaluated_locally_with_plugin_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The component build.rs built for the server's built-ins.
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let component = target.join("wasm-builtins/wasm32-wasip2/release/roi_dcf.wasm");
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("plugins/roi-dcf/manifest.json");
    itbm(root, &["plugin", "sign", "--manifest", manifest.to_str().unwrap(), "--component", component.to_str().unwrap(), "--out", "dcf.itbmpkg"]);
    std::fs::write(
        root.join("input.json"),
        r#"{"periods": [{"label": "Y0", "costs": "40000", "benefits": "0"}, {"label": "Y1", "costs": "0", "benefits": "5000"},
            {"label": "Y2", "costs": "0", "benefits": "8000"}, {"label": "Y3", "costs": "0", "benefits": "12000"},
            {"label": "Y4", "costs": "0", "benefits": "30000"}], "discount_rate": "0.08", "currency": "EUR"}"#,
    )
    .unwrap();
    let evaluated: serde_json::Value =
        serde_json::from_str(&itbm(root, &["plugin", "run", "--package", "dcf.itbmpkg", "evaluate", "--input", "input.json"])).unwrap();
    let npv = evaluated["metrics"].as_array().unwrap().iter().find(|m| m["name"] == "npv").unwrap()["value"].as_str().unwrap().to_owned();
    assert!(npv.starts_with("3065.2226681795"), "{npv}");
    let described = itbm(root, &["plugin", "run", "--package", "dcf.itbmpkg", "describe"]);
    assert!(described.contains("Discounted cash flow"), "{described}");
}
