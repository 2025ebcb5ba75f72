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
fn generate_image_writes_pngs_whose_hashes_hash_prints() {
	let model = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-sd");
	let out = tempfile::tempdir().unwrap();
	let dir = out.path().to_str().unwrap();
	let args = [
		"generate-image", "--model-dir", model, "--prompt", "a photo of the digit seven", "--seed", "3", "--steps", "4",
		"--width", "8", "--height", "8", "--count", "2", "--device", "cpu", "--out-dir", dir,
	];
	let run = worker().args(args).output().unwrap();
	assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
	let printed = String::from_utf8(run.stdout).unwrap();
	assert_eq!(printed.lines().count(), 2, "{printed}");
	let first = printed.lines().next().unwrap();
	let png = format!("{dir}/image-0.png");
	assert!(first.starts_with(&format!("{png} digest 0x")), "{first}");
	// `hash` of the written file prints the same hashes.
	let hashed = String::from_utf8(worker().args(["hash", &png]).output().unwrap().stdout).unwrap();
	let hashes = hashed.trim().strip_prefix(&png).unwrap().trim();
	assert!(first.ends_with(hashes), "{first} vs {hashes}");
	// Same seed, same bytes.
	let again = worker().args(args).output().unwrap();
	assert_eq!(String::from_utf8(again.stdout).unwrap(), printed);
}

#[test]
fn doctor_image_reports_identical_runs_on_the_cpu() {
	let out = worker().args(["doctor-image", "--device", "cpu", "--runs", "2", "--steps", "5"]).output().unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let report = String::from_utf8(out.stdout).unwrap();
	let runs: Vec<&str> = report.lines().filter(|l| l.trim_start().starts_with("run ")).collect();
	assert_eq!(runs.len(), 2, "{report}");
	for run in runs {
		assert!(run.contains("to run 1 [0, 0, 0, 0] (t=0 agree"), "{run}");
	}
	assert!(report.contains("median time per image: "), "{report}");
	// A CUDA device asked for by name must exist; the doctor does not quietly skip it.
	fails_cleanly(&["doctor-image", "--device", "cuda:7", "--runs", "1"], "cuda:7");
}

#[test]
fn bad_input_gives_one_clear_error() {
	fails_cleanly(&["hash", "/nonexistent.png"], "reading /nonexistent.png");
	fails_cleanly(&["hash", "Cargo.toml"], "not a decodable PNG");
	fails_cleanly(&["hash", "--algs", "sha1", "x.png"], "not a hash algorithm");
	fails_cleanly(&["generate", "--model-dir", "/nonexistent", "--prompt", "hi", "--device", "cpu"], "missing model file /nonexistent/config.json");
	fails_cleanly(&["generate", "--model-dir", "/tmp", "--prompt", "hi", "--device", "tpu"], "not a device");
	fails_cleanly(&["generate", "--model-dir", "/tmp", "--prompt", "hi", "--device", "cuda:7"], "cuda:7");
	fails_cleanly(&["generate-image", "--model-dir", "/nonexistent", "--prompt", "hi", "--device", "cpu"], "tokenizer.json");
}
