//! The chain specs built into `replica-node`, and the loader that maps `--chain` to one.

use polkadot_omni_node_lib::chain_spec::{Extensions, GenericChainSpec, LoadSpec};
use replica_runtime::genesis_config_presets::PARACHAIN_ID;
use sc_chain_spec::{ChainSpec, ChainType};
use std::path::Path;

/// The relay chain that the built-in specs name; a collator on another relay chain uses a
/// chain-spec file.
pub const RELAY_CHAIN: &str = "westend-local";

/// The names `--chain` accepts besides a path to a chain-spec JSON file.
pub const BUILT_IN: &[&str] = &["dev", "local"];

/// Maps `--chain` (or `--dev`) to a chain spec: a built-in name or a JSON file on disk.
pub struct ReplicaChainSpecLoader;

impl LoadSpec for ReplicaChainSpecLoader {
	fn load_spec(&self, id: &str) -> Result<Box<dyn ChainSpec>, String> {
		match id {
			"" | "dev" => Ok(Box::new(development()?)),
			"local" => Ok(Box::new(local_testnet()?)),
			path => load_file(path),
		}
	}
}

fn load_file(path: &str) -> Result<Box<dyn ChainSpec>, String> {
	let file = Path::new(path);
	let looks_like_path = path.contains(std::path::MAIN_SEPARATOR) || file.extension().is_some();
	if !file.exists() {
		return Err(if looks_like_path {
			format!("chain spec file `{path}` does not exist")
		} else {
			format!(
				"unknown chain `{path}`: use one of {} or the path of a chain-spec JSON file",
				BUILT_IN.join(", ")
			)
		});
	}
	let spec = GenericChainSpec::from_json_file(file.to_path_buf())
		.map_err(|e| format!("chain spec file `{path}` is not a valid chain spec: {e}"))?;
	Ok(Box::new(spec))
}

fn wasm() -> Result<&'static [u8], String> {
	replica_runtime::WASM_BINARY
		.ok_or_else(|| "this replica-node was built without the runtime's WASM binary".to_string())
}

fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), replica_runtime::TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), replica_runtime::TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

/// The one-collator development chain that `--dev` runs.
pub fn development() -> Result<GenericChainSpec, String> {
	Ok(GenericChainSpec::builder(wasm()?, Extensions::new(RELAY_CHAIN.into(), PARACHAIN_ID))
		.with_name("Replica Development")
		.with_id("replica_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder_preset::DEV)
		.with_properties(properties())
		.build())
}

/// A two-collator local testnet (Alice, Bob) for a local relay chain.
pub fn local_testnet() -> Result<GenericChainSpec, String> {
	Ok(GenericChainSpec::builder(wasm()?, Extensions::new(RELAY_CHAIN.into(), PARACHAIN_ID))
		.with_name("Replica Local Testnet")
		.with_id("replica_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder_preset::LOCAL)
		.with_protocol_id("replica-local")
		.with_properties(properties())
		.build())
}

/// The runtime's preset names (kept here to avoid a dependency on sp-genesis-builder).
mod sp_genesis_builder_preset {
	pub const DEV: &str = "development";
	pub const LOCAL: &str = "local_testnet";
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn unknown_chain_name_is_a_clear_error() {
		let err = ReplicaChainSpecLoader.load_spec("nosuchchain").err().unwrap();
		assert!(err.contains("unknown chain `nosuchchain`"), "{err}");
		assert!(err.contains("dev, local"), "{err}");
	}

	#[test]
	fn missing_spec_file_is_a_clear_error() {
		let err = ReplicaChainSpecLoader.load_spec("/no/such/spec.json").err().unwrap();
		assert_eq!(err, "chain spec file `/no/such/spec.json` does not exist");
	}

	#[test]
	fn malformed_spec_file_is_a_clear_error() {
		let dir = std::env::temp_dir().join(format!("replica-spec-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let path = dir.join("bad.json");
		std::fs::write(&path, b"{ not json").unwrap();
		let err = ReplicaChainSpecLoader.load_spec(path.to_str().unwrap()).err().unwrap();
		assert!(err.contains("is not a valid chain spec"), "{err}");
		std::fs::remove_dir_all(dir).unwrap();
	}

	#[test]
	fn built_in_specs_build_their_genesis() {
		for name in ["dev", "local"] {
			let spec = ReplicaChainSpecLoader.load_spec(name).unwrap();
			let storage = spec.as_storage_builder().build_storage().expect("genesis builds");
			assert!(!storage.top.is_empty(), "{name} genesis has storage");
		}
	}
}
