//! The `replica-worker` command line: hashing files, clear errors for bad input.

mod common;

use common::copy_dir;

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
	assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
	// A usage error is clap's `error: …` line (with a hint after it); any other error is one
	// `replica-worker: …` line, the last one, after whatever was logged before it.
	if let Some(usage) = stderr.lines().find(|l| l.starts_with("error: ")) {
		assert!(usage.contains(needle), "{args:?}: {stderr}");
		return;
	}
	let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("replica-worker: ")).collect();
	assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
	assert_eq!(stderr.lines().last(), Some(errors[0]), "{args:?}: {stderr}");
	assert!(errors[0].contains(needle), "{args:?}: {stderr}");
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
	// The binary switched determinism on before it ran anything.
	let switches = report.lines().next().unwrap_or_default();
	assert!(switches.contains("deterministic_algorithms: 1") && switches.contains("benchmark_cudnn: 0"), "{switches}");
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
	let image_model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd");
	fails_cleanly(&["generate", "--model-dir", image_model, "--prompt", "hi"], "is an image model: use `replica-worker generate-image`");
}

#[test]
fn bad_daemon_configuration_gives_one_clear_error() {
	let store = tempfile::tempdir().unwrap();
	let store = store.path().to_str().unwrap();
	let run = |extra: &[&str]| {
		let mut args = vec!["run", "--store", store, "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--device", "cpu"];
		args.extend_from_slice(extra);
		args.into_iter().map(String::from).collect::<Vec<_>>()
	};
	let check = |extra: &[&str], needle: &str| {
		let args = run(extra);
		fails_cleanly(&args.iter().map(String::as_str).collect::<Vec<_>>(), needle)
	};
	check(&[], "--key is required");
	// A secret on the command line is refused before it is even parsed.
	check(&["--key", "definitely not a key"], "can be read by every user of this machine");
	let models = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
	check(&["--key", "//Bob", "--models", "/nonexistent"], "--models /nonexistent: no such directory");
	check(&["--key", "//Bob", "--models", models, "--node", "http://127.0.0.1:9944"], "expected a ws:// or wss:// URL");
	check(&["--key", "//Bob", "--models", models, "--stake", "lots"], "--stake lots");
	let empty = tempfile::tempdir().unwrap();
	check(&["--key", "//Bob", "--models", empty.path().to_str().unwrap()], "no model in");
	// Nothing listens on port 1: after a few seconds of trying, one line naming the node.
	check(&["--key", "//Bob", "--models", models, "--node", "ws://127.0.0.1:1"], "cannot connect to the Replica node at ws://127.0.0.1:1");
	let config = tempfile::NamedTempFile::new().unwrap();
	std::fs::write(config.path(), "nodes = 1\n").unwrap();
	check(&["--config", config.path().to_str().unwrap()], "unknown field `nodes`");
}

/// The systemd unit under `worker/dist/` passes `systemd-analyze verify` without a warning
/// (where systemd is installed; the binary path is pointed at this build). A deliberately
/// broken copy shows the check would catch a mistake.
#[test]
fn the_systemd_unit_verifies() {
	let Ok(analyze) = which("systemd-analyze") else {
		eprintln!("systemd-analyze is not installed here: unit not verified");
		return;
	};
	let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/dist/replica-worker.service")).unwrap();
	assert!(unit.contains("ExecStart=/usr/local/bin/replica-worker run --config /etc/replica/worker.toml"));
	let verify = |text: &str| {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("replica-worker.service");
		std::fs::write(&path, text.replace("/usr/local/bin/replica-worker", env!("CARGO_BIN_EXE_replica-worker"))).unwrap();
		let out = std::process::Command::new(&analyze).arg("verify").arg(&path).output().unwrap();
		(out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
	};
	let (ok, warnings) = verify(&unit);
	assert!(ok && warnings.trim().is_empty(), "{warnings}");
	let (_, warnings) = verify(&unit.replace("KillSignal=SIGTERM", "KillSignal=SIGNOPE"));
	assert!(warnings.contains("SIGNOPE"), "the check sees a broken unit: {warnings}");
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
	std::env::var_os("PATH")
		.and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join(program)).find(|p| p.is_file()))
		.ok_or(())
}


/// A copy of the embedded image model without its tolerances.toml, in a temporary directory
/// (kept alive by the returned guard).
fn uncalibrated_image_model() -> (tempfile::TempDir, std::path::PathBuf) {
	let work = tempfile::tempdir().unwrap();
	let model = work.path().join("digits-sd");
	copy_dir(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits-sd")), &model);
	let _ = std::fs::remove_file(model.join("tolerances.toml"));
	(work, model)
}

/// `stats` on the embedded image model, small: the tables agree with their own counts, the
/// three plots are PNGs, and `--recommend` writes tolerances.toml with what the JSON
/// recommends. 2 prompts x 27 seeds x 4 replicas per variant is just enough replicas (216 on
/// one variant) for 99.9% agreement at 3 verifiers on the lower bound of the interval.
#[test]
fn stats_writes_its_tables_plots_and_recommended_tolerances() {
	let (work, model) = uncalibrated_image_model();
	let out_dir = work.path().join("out");
	let run = worker()
		.args(["stats", "--model-dir", model.to_str().unwrap(), "--out-dir", out_dir.to_str().unwrap()])
		.args(["--prompt", "a photo of the digit 1", "--prompt", "a photo of the digit 7"])
		.args(["--jobs", "27", "--replicas", "4", "--type2-seeds", "40", "--steps", "4", "--device", "cpu", "--recommend"])
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&run.stdout);
	assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));

	let json: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(out_dir.join("digits-sd.json")).unwrap()).unwrap();
	// 2 prompts x 40 * 39 / 2 pairs, and every histogram counts each pair once.
	assert_eq!(json["type2"]["pairs"], 1560);
	for hash in ["aHash", "pHash", "dHash", "colour"] {
		let total: u64 = json["type2"]["per_hash"][hash]["histogram"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
		assert_eq!(total, 1560, "{hash}");
	}
	let variants = json["variants"].as_array().unwrap().len();
	let table1 = json["table1"].as_array().unwrap();
	let overall: Vec<&serde_json::Value> = table1.iter().filter(|row| row["hash"] == "pHash").collect();
	let replicas = overall.last().unwrap()["replicas"].as_u64().unwrap();
	assert_eq!(replicas, 2 * 27 * 4 * variants as u64);
	assert_eq!(json["images"].as_u64().unwrap(), replicas + 80);
	// Agreement only grows with the tolerance, up to every replica.
	for row in table1 {
		let agreeing: Vec<u64> = row["agreeing_by_tolerance"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
		assert!(agreeing.windows(2).all(|w| w[0] <= w[1]), "{row}");
		assert!(*agreeing.last().unwrap() <= row["replicas"].as_u64().unwrap());
	}
	let markdown = std::fs::read_to_string(out_dir.join("digits-sd.md")).unwrap();
	for heading in ["### Table 1", "### Type II", "### Type I", "### Recommended tolerances"] {
		assert!(markdown.contains(heading), "{heading} missing:\n{markdown}");
	}
	for plot in ["agreement", "collisions", "type-one"] {
		let png = image::open(out_dir.join(format!("digits-sd-{plot}.png"))).unwrap().to_rgb8();
		assert_eq!(png.dimensions(), (960, 600), "{plot}");
		// Something is drawn: not one colour.
		assert!(png.pixels().any(|p| p.0 != [255, 255, 255]) && png.pixels().any(|p| p.0 == [255, 255, 255]), "{plot}");
	}
	// The written tolerances are the recommended ones.
	let written = std::fs::read_to_string(model.join("tolerances.toml")).unwrap();
	let mut expected = Vec::new();
	for (hash, key) in [("aHash", "average"), ("pHash", "perceptual"), ("dHash", "difference"), ("colour", "colour")] {
		if let Some(t) = json["recommended"][hash].as_u64() {
			expected.push(format!("{key} = {t}"));
		}
	}
	assert!(!expected.is_empty(), "nothing recommended: {markdown}");
	let keys: Vec<&str> = written.lines().filter(|l| !l.starts_with('#')).collect();
	assert_eq!(keys, expected, "{written}");
}

#[test]
fn stats_refuses_a_sample_that_cannot_calibrate() {
	let (work, model) = uncalibrated_image_model();
	// 2 replicas: no tolerance can be shown to keep 99.9% agreement.
	fails_cleanly(
		&[
			"stats", "--model-dir", model.to_str().unwrap(), "--out-dir", work.path().join("out").to_str().unwrap(),
			"--prompt", "a photo of the digit 1", "--jobs", "1", "--replicas", "1", "--type2-seeds", "3", "--steps", "2",
			"--device", "cpu", "--recommend",
		],
		"no hash reaches the targets",
	);
	assert!(!model.join("tolerances.toml").exists());
	fails_cleanly(&["stats", "--type2-seeds", "1"], "--type2-seeds must be at least 2");
}

/// `swarm-sim` prints the convergence table: a row per round count, the correlation growing
/// with the rounds; then the Sybil grid, a row per swarm size, and writes its heat map where
/// `--sybil-png` says; too small a swarm is refused.
#[test]
fn swarm_sim_prints_the_convergence_table() {
	let dir = tempfile::tempdir().unwrap();
	let png = dir.path().join("sybil.png");
	let out = worker()
		.args(["swarm-sim", "--rounds", "10,500", "--repetitions", "4", "--sybil-sizes", "10,20", "--sybil-rounds", "10"])
		.arg("--sybil-png")
		.arg(&png)
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let table = String::from_utf8(out.stdout).unwrap();
	let spearman = |rounds: &str| -> f64 {
		let row = table.lines().find(|l| l.split_whitespace().next() == Some(rounds)).unwrap_or_else(|| panic!("{table}"));
		row.split_whitespace().nth(1).unwrap().parse().unwrap()
	};
	assert!(spearman("500") > spearman("10") && spearman("500") > 0.8, "{table}");
	assert!(table.contains("break-even ticket") && table.lines().any(|l| l.trim_start().starts_with("20 ")), "{table}");
	assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"), "a PNG at --sybil-png");
	fails_cleanly(&["swarm-sim", "--agents", "5"], "--agents must be at least 7");
}
