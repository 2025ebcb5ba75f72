// The node and its workers print one version, `<NODE_VERSION>-<commit>`; the node refuses
// workers of another version (polkadot-service's `determine_workers_paths`).
fn main() {
	substrate_build_script_utils::generate_cargo_keys();
}
