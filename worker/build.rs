//! Builds the libtorch determinism shim and lets the binaries find libtorch by themselves.
//!
//! torch-sys (`links = "tch"`) exports the directory of the libtorch it linked as
//! `DEP_TCH_LIBTORCH_LIB`: with `LIBTORCH_USE_PYTORCH=1` that is the `torch/lib` of the PyPI
//! wheel in the Python environment `scripts/setup.sh` creates.

use std::path::{Path, PathBuf};

fn main() {
	println!("cargo:rerun-if-changed=csrc/determinism.cpp");
	// The subxt interface (`chain.rs`) is generated from this file at compile time: rebuild
	// when scripts/update-metadata.sh rewrites it, or the worker keeps the old interface.
	println!("cargo:rerun-if-changed=metadata/replica.scale");
	println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
	let lib = PathBuf::from(
		std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys exports the libtorch lib dir (DEP_TCH_LIBTORCH_LIB)"),
	);
	// An rpath, so that nobody has to set LD_LIBRARY_PATH to run the worker or its tests.
	println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
	// Keep libtorch_cuda linked even though no symbol of it is named: it registers the CUDA
	// backend when loaded. rustc links with --as-needed and puts build-script link arguments
	// after torch-sys' `-ltorch_cuda`, so a bare --no-as-needed comes too late: name the
	// library again inside its own --no-as-needed scope.
	if lib.join("libtorch_cuda.so").exists() {
		println!("cargo:rustc-link-arg=-Wl,--push-state,--no-as-needed,-ltorch_cuda,--pop-state");
	}

	let torch = lib.parent().expect("torch/lib has a parent").to_path_buf();
	cc::Build::new()
		.cpp(true)
		.std("c++17")
		.warnings(false)
		.include(torch.join("include"))
		.include(torch.join("include/torch/csrc/api/include"))
		// PyPI wheels of PyTorch >= 2.7 use the C++11 string ABI.
		.define("_GLIBCXX_USE_CXX11_ABI", "1")
		.file("csrc/determinism.cpp")
		.compile("replica_determinism");

	let (version, cuda) = torch_versions(&torch.join("version.py"));
	println!("cargo:rustc-env=REPLICA_LIBTORCH_VERSION={version}");
	println!("cargo:rustc-env=REPLICA_LIBTORCH_CUDA={cuda}");
}

/// `__version__` (without a local `+cu…` suffix) and `cuda` of torch's `version.py`.
fn torch_versions(version_py: &Path) -> (String, String) {
	let text = std::fs::read_to_string(version_py).unwrap_or_default();
	let field = |name: &str| {
		text.lines()
			.find_map(|line| {
				let (key, value) = line.split_once('=')?;
				// `cuda: Optional[str] = '13.0'`
				let key = key.split(':').next().unwrap_or_default().trim();
				(key == name).then(|| value.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
			})
			.filter(|v| v != "None")
			.unwrap_or_default()
	};
	let version = field("__version__");
	let version = version.split('+').next().unwrap_or_default().to_string();
	(version, field("cuda"))
}
