//! Results over HTTP, on the endpoint a worker declares on chain, and the client dapps use to
//! download them.
//!
//! - `GET /tasks/{id}`: the worker's record of the task as JSON (phase, outcome, file names);
//! - `GET /tasks/{id}/{file}`: a generated file (`image-0.png`, …, `text.txt`), only once the
//!   worker revealed its key, so that nobody can copy a result before committing;
//! - `GET /health`: `ok`.
//!
//! The chain holds every PNG's blake2-256 digest, so a client checks what it downloads.

use crate::store::Store;
use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::{net::SocketAddr, sync::Arc, time::Duration};

type Body = Full<Bytes>;

/// Binds `addr` and serves results from `store` until the process ends.
pub async fn serve(addr: SocketAddr, store: Arc<Store>) -> anyhow::Result<tokio::task::JoinHandle<()>> {
	let listener = tokio::net::TcpListener::bind(addr)
		.await
		.with_context(|| format!("cannot listen on {addr} for the results server (--listen)"))?;
	tracing::info!("serving results on http://{}", listener.local_addr()?);
	Ok(tokio::spawn(async move {
		loop {
			let Ok((socket, _)) = listener.accept().await else { continue };
			let store = store.clone();
			tokio::spawn(async move {
				let service = hyper::service::service_fn(move |req| {
					let store = store.clone();
					async move { Ok::<_, std::convert::Infallible>(respond(&store, &req)) }
				});
				let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
					.serve_connection(TokioIo::new(socket), service)
					.await;
			});
		}
	}))
}

fn respond<B>(store: &Store, req: &Request<B>) -> Response<Body> {
	if req.method() != Method::GET {
		return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n");
	}
	let parts: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
	match parts.as_slice() {
		["health"] => reply(StatusCode::OK, "text/plain", "ok\n"),
		["tasks", id] => match id.parse().ok().and_then(|id| store.get(id).ok().flatten()) {
			Some(record) => {
				let summary = serde_json::json!({
					"task": record.task,
					"round": record.round,
					"model": record.model,
					"phase": record.phase,
					"outcome": record.outcome,
					"files": if record.is_public() { record.outputs.clone() } else { Vec::new() },
				});
				reply(StatusCode::OK, "application/json", summary.to_string())
			},
			None => not_found(),
		},
		["tasks", id, file] => {
			let Some(record) = id.parse().ok().and_then(|id| store.get(id).ok().flatten()) else { return not_found() };
			// Only files the worker wrote for this task, and only once they are public.
			if !record.outputs.iter().any(|name| name == file) {
				return not_found();
			}
			if !record.is_public() {
				return reply(StatusCode::FORBIDDEN, "text/plain", "not revealed yet\n");
			}
			match std::fs::read(store.results_dir(record.task).join(file)) {
				Ok(bytes) => {
					let kind = if file.ends_with(".png") { "image/png" } else { "text/plain; charset=utf-8" };
					reply(StatusCode::OK, kind, bytes)
				},
				Err(_) => not_found(),
			}
		},
		_ => not_found(),
	}
}

fn not_found() -> Response<Body> {
	reply(StatusCode::NOT_FOUND, "text/plain", "not found\n")
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
	let mut response = Response::new(Full::new(body.into()));
	*response.status_mut() = status;
	if let Ok(value) = content_type.parse() {
		response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
	}
	response
}

/// Downloads `url` (`http://` only), failing on any status but 200.
pub async fn get(url: &str) -> anyhow::Result<Vec<u8>> {
	let uri: hyper::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
	anyhow::ensure!(uri.scheme_str() == Some("http"), "{url}: only http:// endpoints are supported");
	let client: hyper_util::client::legacy::Client<_, Body> =
		hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http();
	let response = tokio::time::timeout(Duration::from_secs(30), client.get(uri))
		.await
		.with_context(|| format!("{url}: no answer within 30 s"))?
		.with_context(|| format!("GET {url}"))?;
	let status = response.status();
	let body = response.into_body().collect().await.with_context(|| format!("reading {url}"))?.to_bytes();
	anyhow::ensure!(status == StatusCode::OK, "GET {url}: {status}");
	Ok(body.to_vec())
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::store::{Phase, TaskRecord};

	#[tokio::test]
	async fn results_are_served_only_once_revealed() {
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(dir.path()).unwrap());
		let mut record = TaskRecord::assigned(5, 0, 1, 100, 1);
		record.phase = Phase::Committed;
		record.outputs = vec!["image-0.png".into()];
		std::fs::create_dir_all(store.results_dir(5)).unwrap();
		std::fs::write(store.results_dir(5).join("image-0.png"), b"png bytes").unwrap();
		std::fs::write(store.results_dir(5).join("secret.txt"), b"not an output").unwrap();
		store.put(&record).unwrap();

		let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		let addr = listener.local_addr().unwrap();
		drop(listener);
		serve(addr, store.clone()).await.unwrap();
		let base = format!("http://{addr}");

		assert_eq!(get(&format!("{base}/health")).await.unwrap(), b"ok\n");
		let err = get(&format!("{base}/tasks/5/image-0.png")).await.unwrap_err().to_string();
		assert!(err.contains("403"), "committed, not revealed: {err}");
		let summary: serde_json::Value = serde_json::from_slice(&get(&format!("{base}/tasks/5")).await.unwrap()).unwrap();
		assert_eq!(summary["phase"], "Committed");
		assert_eq!(summary["files"], serde_json::json!([]));

		store
			.update(5, |r| {
				r.phase = Phase::Revealed;
				r.revealed = true;
			})
			.unwrap();
		assert_eq!(get(&format!("{base}/tasks/5/image-0.png")).await.unwrap(), b"png bytes");
		for missing in ["/tasks/5/secret.txt", "/tasks/5/../../worker.redb", "/tasks/6", "/tasks/x/image-0.png", "/nope"] {
			let err = get(&format!("{base}{missing}")).await.unwrap_err().to_string();
			assert!(err.contains("404"), "{missing}: {err}");
		}
		assert!(get("https://example.org/x").await.unwrap_err().to_string().contains("only http://"));
	}
}
