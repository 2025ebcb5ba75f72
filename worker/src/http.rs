//! Results over HTTP, on the endpoint a worker declares on chain, and the client dapps use to
//! download them.
//!
//! - `GET /tasks/{id}`: the worker's record of the task as JSON (phase, outcome, file names);
//! - `GET /tasks/{id}/{file}`: a generated file (`image-0.png`, …, `text.txt`), only once the
//!   worker revealed its key, so that nobody can copy a result before committing;
//! - `GET /training/{id}/checkpoints/{i}` and `GET /training/{id}/data`: checkpoint `i` of a
//!   training task this worker trained, only to a verifier the chain drew for segment `i`, and
//!   the task's training data, only to a drawn verifier, on a request it signed
//!   (`authorization: Replica <account hex> <expires> <sr25519 signature hex>` over
//!   [`crate::training::download_request`]); anyone else gets `403`. Probes are never served;
//! - `GET /health`: `ok` while the device thread runs and blocks arrive, `503` otherwise;
//! - `GET /status`: the daemon's state as JSON (`replica-worker status` prints it).
//!
//! The routes are an axum [`router`]; tower-http bounds what a client can take: a request may
//! carry no body to speak of ([`MAX_REQUEST_BODY`], `413`) and must be answered within
//! [`REQUEST_TIMEOUT`] (`408`). Each connection is served by hyper, whose headers must arrive
//! within [`HEADER_TIMEOUT`] and fit [`MAX_HEADER_BYTES`]; at most [`MAX_CONNECTIONS`] are
//! served at once and accept errors back off instead of spinning. Store and file reads run on
//! the blocking pool. The server speaks plain HTTP: an operator who declares an `https://`
//! endpoint puts a TLS proxy in front of it.
//!
//! [`get`] downloads over `http://` or `https://` (rustls, the system's root certificates or
//! `SSL_CERT_FILE`), stopping at [`MAX_DOWNLOAD`] bytes and after [`DOWNLOAD_TIMEOUT`]. The
//! chain holds every PNG's blake2-256 digest, so a client checks what it downloads.

use crate::{daemon::Queued, store::Store};
use anyhow::Context;
use axum::{
	extract::{Path, State},
	http::{header, StatusCode},
	response::{IntoResponse, Response},
	routing::get as route_get,
	Router,
};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::{
	net::SocketAddr,
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc,
	},
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio_util::sync::CancellationToken;

/// Time a client has to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Time to answer one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request header block.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The largest request body (every route is a GET).
pub const MAX_REQUEST_BODY: usize = 1024;
/// Connections served at once; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 256;
/// The largest response [`get`] accepts.
pub const MAX_DOWNLOAD: usize = 64 * 1024 * 1024;
/// The longest [`get`] waits for a whole response.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// `/health` fails when no block arrived for this long.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// What `/health` and `/status` report, shared with the daemon.
#[derive(Clone, Default)]
pub struct Health {
	/// The latest finalized block the daemon has seen.
	pub latest_block: Arc<AtomicU64>,
	/// When it arrived (seconds since the Unix epoch; 0: none yet).
	pub latest_block_at: Arc<AtomicU64>,
	/// Whether the device thread still takes jobs.
	pub device_alive: Arc<AtomicBool>,
	/// Tasks handed to the device thread.
	pub queued: Queued,
}

impl Health {
	/// Records that block `number` arrived now.
	pub fn saw_block(&self, number: u64) {
		self.latest_block.store(number, Ordering::Relaxed);
		self.latest_block_at.store(unix_now(), Ordering::Relaxed);
	}

	/// Why the worker is unhealthy, if it is.
	pub fn problem(&self) -> Option<String> {
		if !self.device_alive.load(Ordering::Relaxed) {
			return Some("the device thread has stopped".into());
		}
		let at = self.latest_block_at.load(Ordering::Relaxed);
		let age = unix_now().saturating_sub(at);
		if at == 0 {
			Some("no block seen yet".into())
		} else if age > STALE_AFTER.as_secs() {
			Some(format!("no block for {age} s"))
		} else {
			None
		}
	}
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[derive(Clone)]
struct Shared {
	store: Arc<Store>,
	health: Health,
}

/// The results server's routes and limits, without a listener.
pub fn router(store: Arc<Store>, health: Health) -> Router {
	Router::new()
		.route("/health", route_get(health_route))
		.route("/status", route_get(status_route))
		.route("/tasks/:id", route_get(task_route))
		.route("/tasks/:id/:file", route_get(file_route))
		.route("/training/:id/checkpoints/:index", route_get(checkpoint_route))
		.route("/training/:id/data", route_get(data_route))
		.fallback(|| async { not_found() })
		.layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_REQUEST_BODY))
		.layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
		.with_state(Shared { store, health })
}

/// Binds `addr` and serves results from `store` until `shutdown` is cancelled; the returned
/// task ends once the listener is closed (connections being served finish on their own).
pub async fn serve(
	addr: SocketAddr,
	store: Arc<Store>,
	health: Health,
	shutdown: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
	let listener = tokio::net::TcpListener::bind(addr)
		.await
		.with_context(|| format!("cannot listen on {addr} for the results server (--listen)"))?;
	tracing::info!("serving results on http://{}", listener.local_addr()?);
	let app = router(store, health);
	let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
	Ok(tokio::spawn(async move {
		loop {
			let permit = tokio::select! {
				_ = shutdown.cancelled() => return,
				permit = connections.clone().acquire_owned() => match permit {
					Ok(permit) => permit,
					Err(_) => return,
				},
			};
			let accepted = tokio::select! {
				_ = shutdown.cancelled() => return,
				accepted = listener.accept() => accepted,
			};
			let socket = match accepted {
				Ok((socket, _)) => socket,
				Err(e) => {
					// Out of file descriptors, usually: wait instead of spinning.
					tracing::warn!("results server: accept failed: {e}");
					tokio::time::sleep(Duration::from_millis(200)).await;
					continue;
				},
			};
			let service = hyper_util::service::TowerToHyperService::new(app.clone());
			tokio::spawn(async move {
				let _ = hyper::server::conn::http1::Builder::new()
					.timer(TokioTimer::new())
					.header_read_timeout(HEADER_TIMEOUT)
					.max_buf_size(MAX_HEADER_BYTES)
					.serve_connection(TokioIo::new(socket), service)
					.await;
				drop(permit);
			});
		}
	}))
}

async fn health_route(State(shared): State<Shared>) -> Response {
	match shared.health.problem() {
		None => text(StatusCode::OK, "ok\n"),
		Some(problem) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{problem}\n")),
	}
}

async fn status_route(State(Shared { store, health }): State<Shared>) -> Response {
	let Ok(Ok(unfinished)) = tokio::task::spawn_blocking(move || store.unfinished()).await else {
		return store_error();
	};
	let queued = health.queued.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len();
	let open: Vec<serde_json::Value> = unfinished
		.iter()
		.map(|r| serde_json::json!({ "task": r.task, "round": r.round, "phase": r.phase, "commit_deadline": r.commit_deadline }))
		.collect();
	let at = health.latest_block_at.load(Ordering::Relaxed);
	json(serde_json::json!({
		"healthy": health.problem().is_none(),
		"problem": health.problem(),
		"device_thread_alive": health.device_alive.load(Ordering::Relaxed),
		"latest_block": health.latest_block.load(Ordering::Relaxed),
		"seconds_since_block": (at != 0).then(|| unix_now().saturating_sub(at)),
		"queued": queued,
		"open_tasks": open,
	}))
}

async fn task_route(State(Shared { store, .. }): State<Shared>, Path(id): Path<u64>) -> Response {
	match tokio::task::spawn_blocking(move || store.get(id)).await {
		Ok(Ok(Some(record))) => json(serde_json::json!({
			"task": record.task,
			"round": record.round,
			"model": record.model,
			"phase": record.phase,
			"outcome": record.outcome,
			"files": if record.is_public() { record.outputs.clone() } else { Vec::new() },
		})),
		Ok(Ok(None)) => not_found(),
		_ => store_error(),
	}
}

async fn file_route(State(Shared { store, .. }): State<Shared>, Path((id, file)): Path<(u64, String)>) -> Response {
	enum Found {
		File(Vec<u8>),
		NotRevealed,
		Missing,
	}
	let read = tokio::task::spawn_blocking(move || -> anyhow::Result<Found> {
		let Some(record) = store.get(id)? else { return Ok(Found::Missing) };
		// Only files the worker wrote for this task, and only once they are public.
		if !record.outputs.iter().any(|name| *name == file) {
			return Ok(Found::Missing);
		}
		if !record.is_public() {
			return Ok(Found::NotRevealed);
		}
		Ok(std::fs::read(store.results_dir(record.task).join(&file)).map_or(Found::Missing, Found::File))
	});
	match read.await {
		Ok(Ok(Found::File(bytes))) => {
			let kind = if bytes.starts_with(b"\x89PNG") { "image/png" } else { "text/plain; charset=utf-8" };
			([(header::CONTENT_TYPE, kind)], bytes).into_response()
		},
		Ok(Ok(Found::NotRevealed)) => text(StatusCode::FORBIDDEN, "not revealed yet\n"),
		Ok(Ok(Found::Missing)) => not_found(),
		_ => store_error(),
	}
}

async fn checkpoint_route(
	State(shared): State<Shared>,
	Path((id, index)): Path<(u64, u32)>,
	headers: axum::http::HeaderMap,
) -> Response {
	training_download(shared, id, crate::training::Download::Checkpoint(index), headers).await
}

async fn data_route(State(shared): State<Shared>, Path(id): Path<u64>, headers: axum::http::HeaderMap) -> Response {
	training_download(shared, id, crate::training::Download::Data, headers).await
}

/// A training task's checkpoint or data, for the verifiers the chain drew, as the trainer.
async fn training_download(
	Shared { store, .. }: Shared,
	id: u64,
	what: crate::training::Download,
	headers: axum::http::HeaderMap,
) -> Response {
	enum Found {
		File(Vec<u8>),
		Forbidden,
		Missing,
	}
	let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
	let read = tokio::task::spawn_blocking(move || -> anyhow::Result<Found> {
		let Some(record) = store.training_get(id)? else { return Ok(Found::Missing) };
		if record.trainer.is_none() {
			return Ok(Found::Missing);
		}
		if !crate::training::may_download(&authorization, id, what, &record.readers) {
			return Ok(Found::Forbidden);
		}
		let file = match what {
			crate::training::Download::Checkpoint(index) => crate::training::checkpoint_file(index),
			crate::training::Download::Data => crate::training::DATA_FILE.to_string(),
		};
		let path = store.training_dir(id).join(file);
		Ok(std::fs::read(path).map_or(Found::Missing, Found::File))
	});
	match read.await {
		Ok(Ok(Found::File(bytes))) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
		Ok(Ok(Found::Forbidden)) => text(StatusCode::FORBIDDEN, "only for a drawn verifier, on a request it signed\n"),
		Ok(Ok(Found::Missing)) => not_found(),
		_ => store_error(),
	}
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
	(status, [(header::CONTENT_TYPE, "text/plain")], body.into()).into_response()
}

fn json(value: serde_json::Value) -> Response {
	([(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

fn not_found() -> Response {
	text(StatusCode::NOT_FOUND, "not found\n")
}

fn store_error() -> Response {
	text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the store\n")
}

/// A server's answer other than 200 to [`get`]; callers downcast to it to tell "not revealed
/// yet" (403) from other failures.
#[derive(Debug)]
pub struct BadStatus {
	pub url: String,
	pub status: StatusCode,
}

impl std::fmt::Display for BadStatus {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(f, "GET {}: {}", self.url, self.status)
	}
}

impl std::error::Error for BadStatus {}

/// Downloads `url` (`http://` or `https://`), failing on any status but 200 (as [`BadStatus`]), after
/// [`DOWNLOAD_TIMEOUT`], or beyond [`MAX_DOWNLOAD`] bytes. `https://` trusts the system's root
/// certificates, or those in `SSL_CERT_FILE`/`SSL_CERT_DIR` when set.
pub async fn get(url: &str) -> anyhow::Result<Vec<u8>> {
	get_with(url, &[]).await
}

/// [`get`] with request headers.
pub async fn get_with(url: &str, headers: &[(&str, &str)]) -> anyhow::Result<Vec<u8>> {
	let uri: hyper::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
	let mut request = hyper::Request::builder().uri(uri.clone());
	for (name, value) in headers {
		request = request.header(*name, *value);
	}
	let request = request.body(Empty::<Bytes>::new()).with_context(|| format!("GET {url}: a bad header"))?;
	let download = async {
		let response = match uri.scheme_str() {
			Some("http") => {
				let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
				client.request(request).await
			},
			Some("https") => {
				let connector = hyper_rustls::HttpsConnectorBuilder::new()
					.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
					.context("no root certificates for https (install ca-certificates or set SSL_CERT_FILE)")?
					.https_only()
					.enable_http1()
					.build();
				let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(connector);
				client.request(request).await
			},
			_ => anyhow::bail!("{url}: only http:// and https:// URLs are supported"),
		}
		.with_context(|| format!("GET {url}"))?;
		let status = response.status();
		if status != StatusCode::OK {
			return Err(anyhow::Error::new(BadStatus { url: url.to_string(), status }));
		}
		let length = response.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
		anyhow::ensure!(length.is_none_or(|n| n <= MAX_DOWNLOAD), "GET {url}: more than the {MAX_DOWNLOAD} bytes accepted");
		let mut body = response.into_body();
		let mut bytes = Vec::new();
		while let Some(frame) = body.frame().await {
			if let Ok(data) = frame.with_context(|| format!("reading {url}"))?.into_data() {
				anyhow::ensure!(bytes.len() + data.len() <= MAX_DOWNLOAD, "GET {url}: more than the {MAX_DOWNLOAD} bytes accepted");
				bytes.extend_from_slice(&data);
			}
		}
		Ok(bytes)
	};
	tokio::time::timeout(DOWNLOAD_TIMEOUT, download)
		.await
		.with_context(|| format!("{url}: no answer within {} s", DOWNLOAD_TIMEOUT.as_secs()))?
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::store::{Phase, TaskRecord};
	use tokio::io::{AsyncReadExt, AsyncWriteExt};

	async fn started(store: Arc<Store>, health: Health) -> String {
		let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		let addr = listener.local_addr().unwrap();
		drop(listener);
		serve(addr, store, health, CancellationToken::new()).await.unwrap();
		format!("127.0.0.1:{}", addr.port())
	}

	/// Sends `request` as raw bytes and returns the status line (empty if the server closed
	/// the connection without answering).
	async fn raw(addr: &str, request: &[u8]) -> String {
		let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
		let _ = socket.write_all(request).await;
		let mut answer = Vec::new();
		let _ = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await;
		String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
	}

	fn healthy() -> Health {
		let health = Health::default();
		health.device_alive.store(true, Ordering::Relaxed);
		health.saw_block(7);
		health
	}

	#[tokio::test]
	async fn results_are_served_only_once_revealed() {
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(dir.path()).unwrap());
		let mut record = TaskRecord::assigned(5, 0, 1, 100, 1);
		record.phase = Phase::Committed;
		record.outputs = vec!["image-0.png".into()];
		std::fs::create_dir_all(store.results_dir(5)).unwrap();
		std::fs::write(store.results_dir(5).join("image-0.png"), b"\x89PNG bytes").unwrap();
		std::fs::write(store.results_dir(5).join("secret.txt"), b"not an output").unwrap();
		store.put(&record).unwrap();
		let base = format!("http://{}", started(store.clone(), healthy()).await);

		assert_eq!(get(&format!("{base}/health")).await.unwrap(), b"ok\n");
		let err = get(&format!("{base}/tasks/5/image-0.png")).await.unwrap_err().to_string();
		assert!(err.contains("403"), "committed, not revealed: {err}");
		let summary: serde_json::Value = serde_json::from_slice(&get(&format!("{base}/tasks/5")).await.unwrap()).unwrap();
		assert_eq!(summary["phase"], "Committed");
		assert_eq!(summary["files"], serde_json::json!([]));

		// Ended without a reveal: still private.
		store.update(5, |r| r.phase = Phase::Done).unwrap();
		assert!(get(&format!("{base}/tasks/5/image-0.png")).await.unwrap_err().to_string().contains("403"));
		store
			.update(5, |r| {
				r.phase = Phase::Revealed;
				r.revealed = true;
			})
			.unwrap();
		assert_eq!(get(&format!("{base}/tasks/5/image-0.png")).await.unwrap(), b"\x89PNG bytes");
		for missing in ["/tasks/5/secret.txt", "/tasks/5/../../worker.redb", "/tasks/6", "/nope"] {
			let err = get(&format!("{base}{missing}")).await.unwrap_err().to_string();
			assert!(err.contains("404"), "{missing}: {err}");
		}
		let err = get(&format!("{base}/tasks/x/image-0.png")).await.unwrap_err().to_string();
		assert!(err.contains("400"), "{err}");
		assert!(get("ftp://example.org/x").await.unwrap_err().to_string().contains("only http:// and https://"));

		let status: serde_json::Value = serde_json::from_slice(&get(&format!("{base}/status")).await.unwrap()).unwrap();
		assert_eq!(status["latest_block"], 7);
		assert_eq!(status["device_thread_alive"], true);
		assert_eq!(status["open_tasks"][0]["task"], 5);
	}

	/// A trainer serves checkpoint `i` only to a verifier drawn for segment `i`, and the data
	/// only to drawn verifiers, on unexpired requests they signed; never a probe.
	#[tokio::test]
	async fn training_downloads_are_served_only_to_drawn_verifiers_that_sign() {
		use crate::training::{authorization, download_request, Download};
		use subxt_signer::sr25519::dev;
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(dir.path()).unwrap());
		let (alice, bob, eve) = (dev::alice(), dev::bob(), dev::eve());
		let mut record = crate::store::TrainingRecord::new(9, 1);
		record.trainer = Some(crate::store::TrainerRecord { initial: [0; 32], segments: vec![], committed: true });
		record.readers = vec![(1, alice.public_key().0), (2, bob.public_key().0)];
		store.training_put(&record).unwrap();
		let files = store.training_dir(9);
		std::fs::create_dir_all(&files).unwrap();
		std::fs::write(files.join(crate::training::checkpoint_file(1)), b"checkpoint one").unwrap();
		std::fs::write(files.join(crate::training::checkpoint_file(2)), b"checkpoint two").unwrap();
		std::fs::write(files.join(crate::training::DATA_FILE), b"latents").unwrap();
		let base = format!("http://{}", started(store.clone(), healthy()).await);
		let fetch = |what: Download, auth: Option<String>| {
			let url = format!("{base}{}", what.path(9));
			async move {
				let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
				get_with(&url, &headers).await.map_err(|e| e.to_string())
			}
		};
		let one = Download::Checkpoint(1);
		assert_eq!(fetch(one, Some(authorization(&alice, 9, one))).await.unwrap(), b"checkpoint one");
		assert_eq!(fetch(Download::Data, Some(authorization(&bob, 9, Download::Data))).await.unwrap(), b"latents");
		let refused = [
			(one, None),
			(one, Some("Replica garbage".to_string())),
			// Bob checks segment 2, not 1; Eve checks nothing.
			(one, Some(authorization(&bob, 9, one))),
			(one, Some(authorization(&eve, 9, one))),
			(Download::Data, Some(authorization(&eve, 9, Download::Data))),
			// Alice's signatures for checkpoint 2, or for another task, do not open checkpoint 1.
			(one, Some(authorization(&alice, 9, Download::Checkpoint(2)))),
			(one, Some(authorization(&alice, 10, one))),
		];
		for (what, auth) in refused {
			let err = fetch(what, auth.clone()).await.unwrap_err();
			assert!(err.contains("403"), "{what:?} {auth:?}: {err}");
		}
		let two_for_one = authorization(&alice, 9, Download::Checkpoint(2));
		let err = fetch(Download::Checkpoint(2), Some(two_for_one)).await.unwrap_err();
		assert!(err.contains("403"), "alice does not check segment 2: {err}");
		// An expired request, correctly signed.
		let expired = unix_now() - 1;
		let signature = alice.sign(&download_request(9, one, expired));
		let stale = format!("Replica {} {expired} {}", crate::hex(&alice.public_key().0), crate::hex(&signature.0));
		assert!(fetch(one, Some(stale)).await.unwrap_err().contains("403"));
		// Probes are not served at all; a task it did not train is unknown.
		assert!(get(&format!("{base}/training/9/probes/1")).await.unwrap_err().to_string().contains("404"));
		let other = get_with(&format!("{base}{}", one.path(10)), &[("authorization", &authorization(&alice, 10, one))]).await;
		assert!(other.unwrap_err().to_string().contains("404"));
	}

	#[tokio::test]
	async fn oversized_slow_and_malformed_requests_are_refused() {
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(dir.path()).unwrap());
		let addr = started(store, healthy()).await;

		// A body far beyond what a GET needs.
		let status = raw(&addr, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n").await;
		assert!(status.contains("413"), "{status}");
		// Headers beyond the limit.
		let mut huge = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: ".to_vec();
		huge.extend(std::iter::repeat(b'a').take(MAX_HEADER_BYTES * 4));
		huge.extend_from_slice(b"\r\n\r\n");
		let status = raw(&addr, &huge).await;
		assert!(status.is_empty() || status.contains("431") || status.contains("400"), "{status}");
		// Not HTTP at all.
		let status = raw(&addr, b"HELLO THERE\r\n\r\n").await;
		assert!(status.is_empty() || status.contains("400"), "{status}");
		// Headers that never end: the connection is closed once the header timeout passes.
		let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
		slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await.unwrap();
		let started = std::time::Instant::now();
		let mut answer = Vec::new();
		let read = tokio::time::timeout(HEADER_TIMEOUT * 3, slow.read_to_end(&mut answer)).await;
		assert!(read.is_ok(), "a client that never finishes its headers is dropped");
		assert!(started.elapsed() >= HEADER_TIMEOUT / 2, "not before the timeout");
		// And the server still answers.
		assert!(raw(&addr, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.contains("200"));
	}

	#[tokio::test]
	async fn health_fails_without_a_device_thread_or_blocks() {
		let dir = tempfile::tempdir().unwrap();
		let store = Arc::new(Store::open(dir.path()).unwrap());
		let health = healthy();
		let base = format!("http://{}", started(store, health.clone()).await);
		assert!(get(&format!("{base}/health")).await.is_ok());
		health.latest_block_at.store(unix_now() - STALE_AFTER.as_secs() - 10, Ordering::Relaxed);
		assert!(get(&format!("{base}/health")).await.unwrap_err().to_string().contains("503"));
		health.saw_block(8);
		health.device_alive.store(false, Ordering::Relaxed);
		assert!(get(&format!("{base}/health")).await.unwrap_err().to_string().contains("503"));
	}
}
