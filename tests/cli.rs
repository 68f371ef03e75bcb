//! The `itbm` command as a user runs it: defaults that need no configuration,
//! configuration by file and environment, tokens, and a graceful stop.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ITBM: &str = env!("CARGO_BIN_EXE_itbm");

/// Starts `itbm serve` in `dir` and returns it with the address it listens on.
fn serve(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(ITBM)
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .env_remove("ITBM_DATA_DIR")
        .env_remove("ITBM_DATABASE_URL")
        .env_remove("ITBM_LISTEN")
        .env("ITBM_LOG_FORMAT", "json")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .spawn()
        .expect("itbm starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("itbm is serving") {
            let log: serde_json::Value = serde_json::from_str(&line).expect("JSON logs");
            let address = log["fields"]["address"].as_str().unwrap().to_owned();
            // Keep reading, as a terminal or a log collector would.
            std::thread::spawn(move || lines.for_each(drop));
            return (child, address);
        }
    }
    panic!("itbm exited before serving");
}

fn sigterm(child: &Child) {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
}

#[test]
fn serve_needs_no_configuration_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, address) = serve(dir.path(), &["--listen", "127.0.0.1:0"], &[]);
    let data = dir.path().join("itbm-data");
    assert!(data.join("itbm.db").exists(), "the SQLite database is created in ./itbm-data");
    let secret = std::fs::metadata(data.join("jwt-secret")).unwrap();
    assert_eq!(secret.permissions().mode() & 0o777, 0o600, "the signing key is private to its owner");

    let token = Command::new(ITBM).args(["token", "--role", "viewer", "--sub", "alice"]).current_dir(dir.path()).output().unwrap();
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap();
    let reply = reqwest::blocking::Client::new()
        .get(format!("http://{address}/api/v1/projects"))
        .bearer_auth(token.trim())
        .send()
        .unwrap();
    assert_eq!(reply.status(), 200, "a token from `itbm token` is accepted by the server of the same data directory");

    sigterm(&child);
    let status = wait(&mut child, Duration::from_secs(10)).expect("itbm stops within 10 s of SIGTERM");
    assert!(status.success(), "a graceful stop exits 0, got {status}");
}

#[test]
fn a_config_file_is_read_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("itbm.toml");
    std::fs::write(&file, "data_dir = \"from-file\"\nlisten = \"127.0.0.1:1\"\n").unwrap();
    let (mut child, address) =
        serve(dir.path(), &["--config", file.to_str().unwrap()], &[("ITBM_LISTEN", "127.0.0.1:0")]);
    assert!(dir.path().join("from-file/itbm.db").exists(), "data_dir comes from the file");
    assert_ne!(address, "127.0.0.1:1", "ITBM_LISTEN wins over the file");
    sigterm(&child);
    wait(&mut child, Duration::from_secs(10)).unwrap();
}

#[test]
fn an_unknown_key_in_the_config_file_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("itbm.toml");
    std::fs::write(&file, "listn = \"127.0.0.1:0\"\n").unwrap();
    let out = Command::new(ITBM).args(["serve", "--config", file.to_str().unwrap()]).current_dir(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("listn"));
}

#[test]
fn openapi_prints_the_committed_document() {
    let out = Command::new(ITBM).arg("openapi").output().unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert!(String::from_utf8(out.stdout).unwrap() == committed);
}

fn wait(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}
