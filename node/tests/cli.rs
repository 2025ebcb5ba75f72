//! The node's command line with bad input: a clear error and a non-zero exit, no panic.

use std::process::Command;

fn node(args: &[&str]) -> (bool, String) {
	let out = Command::new(env!("CARGO_BIN_EXE_replica-node")).args(args).output().unwrap();
	(out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn unknown_chain_name_is_a_clear_error() {
	let (ok, stderr) = node(&["build-spec", "--chain", "nosuchchain"]);
	assert!(!ok);
	assert!(stderr.contains("unknown chain `nosuchchain`"), "{stderr}");
	assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_spec_file_is_a_clear_error() {
	let (ok, stderr) = node(&["build-spec", "--chain", "./missing/spec.json"]);
	assert!(!ok);
	assert!(stderr.contains("chain spec file `./missing/spec.json` does not exist"), "{stderr}");
}

#[test]
fn unknown_flag_is_a_clear_error() {
	let (ok, stderr) = node(&["--no-such-flag"]);
	assert!(!ok);
	assert!(stderr.contains("--no-such-flag"), "{stderr}");
}

#[test]
fn built_in_dev_spec_exports_with_the_runtime_and_token() {
	let out = Command::new(env!("CARGO_BIN_EXE_replica-node"))
		.args(["build-spec", "--chain", "dev"])
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let spec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
	assert_eq!(spec["id"], "replica_dev");
	assert_eq!(spec["properties"]["tokenSymbol"], "RPL");
	assert_eq!(spec["para_id"].as_u64().or(spec["paraId"].as_u64()), Some(2000));
	assert!(spec["genesis"]["runtimeGenesis"]["code"].as_str().unwrap().len() > 100_000);
}
