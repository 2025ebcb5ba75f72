//! The `replica-worker` command line: hashing files, clear errors for bad input.

use std::process::Command;

fn worker() -> Command {
	Command::new(env!("CARGO_BIN_EXE_replica-worker"))
}

#[test]
fn hash_prints_the_golden_hashes() {
	let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
	let json: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(format!("{golden}/hashes.json")).unwrap()).unwrap();
	let out = worker().args(["hash", &format!("{golden}/shapes_333x201.png")]).output().unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let line = String::from_utf8(out.stdout).unwrap();
	let want = &json["shapes_333x201.png"];
	for (alg, key) in [("Average", "average"), ("Perceptual", "perceptual"), ("Difference", "difference"), ("Colour", "colour")] {
		assert!(line.contains(&format!("{alg}={}", want[key].as_str().unwrap())), "{alg} missing in {line}");
	}
	let only = worker().args(["hash", "--algs", "dhash", &format!("{golden}/shapes_333x201.png")]).output().unwrap();
	let only = String::from_utf8(only.stdout).unwrap();
	assert!(only.contains("Difference=") && !only.contains("Average="), "{only}");
}

/// One line on stderr, non-zero exit, no panic.
fn fails_cleanly(args: &[&str], needle: &str) {
	let out = worker().args(args).output().unwrap();
	assert!(!out.status.success(), "{args:?} succeeded");
	let stderr = String::from_utf8(out.stderr).unwrap();
	assert!(stderr.contains(needle), "{args:?}: {stderr}");
	assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
}

#[test]
fn bad_input_gives_one_clear_error() {
	fails_cleanly(&["hash", "/nonexistent.png"], "reading /nonexistent.png");
	fails_cleanly(&["hash", "Cargo.toml"], "not a decodable PNG");
	fails_cleanly(&["hash", "--algs", "sha1", "x.png"], "not a hash algorithm");
	fails_cleanly(&["generate", "--model-dir", "/nonexistent", "--prompt", "hi", "--device", "cpu"], "missing model file /nonexistent/config.json");
	fails_cleanly(&["generate", "--model-dir", "/tmp", "--prompt", "hi", "--device", "tpu"], "not a device");
	fails_cleanly(&["generate", "--model-dir", "/tmp", "--prompt", "hi", "--device", "cuda:7"], "cuda:7");
}
