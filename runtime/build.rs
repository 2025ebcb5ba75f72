//! Builds the runtime's WASM, and a second one with the `upgrade-test` feature (a later
//! runtime version, see `Cargo.toml`) that the worker's end-to-end test upgrades a chain to.

/// The file in `OUT_DIR` that makes the `upgrade-test` WASM available as `upgrade_test::WASM_BINARY`.
#[cfg(feature = "std")]
const UPGRADE_TEST_FILE: &str = "upgrade_test_wasm_binary.rs";

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn main() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.set_file_name(UPGRADE_TEST_FILE)
		.enable_feature("upgrade-test")
		.build();
}

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn main() {
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash("RPL", 12)
		.build();
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.set_file_name(UPGRADE_TEST_FILE)
		.enable_feature("upgrade-test")
		.enable_metadata_hash("RPL", 12)
		.build();
}

/// The wasm builder is deactivated when compiling this crate for wasm to speed up the compilation.
#[cfg(not(feature = "std"))]
fn main() {}
