//! Writes the runtime's metadata (V16, SCALE-encoded with its `meta` prefix, as the node's
//! `state_getMetadata` returns it) to the given path. Used by `scripts/update-metadata.sh`.

fn main() {
	let path = std::env::args().nth(1).expect("usage: export-metadata <out.scale>");
	std::fs::write(&path, replica_runtime::metadata_bytes()).expect("write metadata");
	println!("wrote {path}");
}
