//! `replica_worker::http::get` downloads over https (rustls), trusting the roots named by
//! `SSL_CERT_FILE`: a worker's declared endpoint may sit behind a TLS proxy. Its own test
//! binary, because it sets the environment before any thread starts.

use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use std::{
	io::{Read, Write},
	net::TcpListener,
	sync::Arc,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");

/// Serves `connections` TLS connections on a thread, answering each request with `body`.
fn tls_server(body: &'static [u8], connections: usize) -> u16 {
	let certs: Vec<CertificateDer> =
		CertificateDer::pem_file_iter(format!("{FIXTURES}/localhost.pem")).unwrap().map(Result::unwrap).collect();
	let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/localhost.key")).unwrap();
	let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
		.with_safe_default_protocol_versions()
		.unwrap()
		.with_no_client_auth()
		.with_single_cert(certs, key)
		.unwrap();
	let config = Arc::new(config);
	let listener = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = listener.local_addr().unwrap().port();
	std::thread::spawn(move || {
		for socket in listener.incoming().take(connections) {
			let Ok(socket) = socket else { continue };
			let connection = rustls::ServerConnection::new(config.clone()).unwrap();
			let mut tls = rustls::StreamOwned::new(connection, socket);
			let mut request = Vec::new();
			let mut byte = [0u8; 1];
			while !request.ends_with(b"\r\n\r\n") {
				match tls.read(&mut byte) {
					Ok(1) => request.push(byte[0]),
					_ => break,
				}
			}
			if request.ends_with(b"\r\n\r\n") {
				let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
				let _ = tls.write_all(head.as_bytes());
				let _ = tls.write_all(body);
				tls.conn.send_close_notify();
				let _ = tls.flush();
			}
		}
	});
	port
}

#[test]
fn downloads_over_https_with_the_configured_roots() {
	std::env::set_var("SSL_CERT_FILE", format!("{FIXTURES}/ca.pem"));
	let port = tls_server(b"\x89PNG over tls", 2);
	let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
	runtime.block_on(async {
		let url = format!("https://localhost:{port}/tasks/1/image-0.png");
		assert_eq!(replica_worker::http::get(&url).await.unwrap(), b"\x89PNG over tls");
		// Plain http to a TLS port is not mistaken for an answer.
		assert!(replica_worker::http::get(&format!("http://127.0.0.1:{port}/x")).await.is_err());
	});
	// Without the test CA among the roots, the same server's certificate is refused.
	std::env::set_var("SSL_CERT_FILE", format!("{FIXTURES}/localhost.key"));
	let port = tls_server(b"untrusted", 1);
	runtime.block_on(async {
		let err = replica_worker::http::get(&format!("https://localhost:{port}/x")).await.unwrap_err();
		assert!(format!("{err:#}").contains("certificate"), "{err:#}");
	});
}
