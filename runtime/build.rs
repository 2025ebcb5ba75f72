//! Builds the runtime's WASM, and a second one with the `upgrade-test` feature (a later runtime
//! version, see `Cargo.toml`) that the worker's end-to-end test upgrades a chain to — unless
//! `REPLICA_SKIP_UPGRADE_TEST_WASM` is set: `scripts/demo.sh` sets it, since it runs no test
//! and the second build is minutes at the end of a cold build.

/// The file in `OUT_DIR` that makes the `upgrade-test` WASM available as `upgrade_test::WASM_BINARY`.
#[cfg(feature = "std")]
const UPGRADE_TEST_FILE: &str = "upgrade_test_wasm_binary.rs";
#[cfg(feature = "std")]
const SKIP_UPGRADE_TEST_ENV: &str = "REPLICA_SKIP_UPGRADE_TEST_WASM";

/// Whether to build the `upgrade-test` WASM; when not, `upgrade_test::WASM_BINARY` is `None`.
#[cfg(feature = "std")]
fn upgrade_test_wanted() -> bool {
	println!("cargo:rerun-if-env-changed={SKIP_UPGRADE_TEST_ENV}");
	if std::env::var_os(SKIP_UPGRADE_TEST_ENV).is_none() {
		return true;
	}
	let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
	std::fs::write(
		out.join(UPGRADE_TEST_FILE),
		"pub const WASM_BINARY_PATH: Option<&str> = None;\n\
		 pub const WASM_BINARY: Option<&[u8]> = None;\n\
		 pub const WASM_BINARY_BLOATY: Option<&[u8]> = None;\n",
	)
	.expect("writing to OUT_DIR");
	false
}

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
	if upgrade_test_wanted() {
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.set_file_name(UPGRADE_TEST_FILE)
			.enable_feature("upgrade-test")
			.build();
	}
}

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn main() {
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash("RPL", 12)
		.build();
	if upgrade_test_wanted() {
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.set_file_name(UPGRADE_TEST_FILE)
			.enable_feature("upgrade-test")
			.enable_metadata_hash("RPL", 12)
			.build();
	}
}

/// The wasm builder is deactivated when compiling this crate for wasm to speed up the compilation.
#[cfg(not(feature = "std"))]
fn main() {}
