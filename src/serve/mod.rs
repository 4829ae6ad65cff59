//! `refreshsim serve`: a local emulator of the instance-refresh APIs over HTTP, speaking Tencent
//! Cloud API 3.0 as the SDKs and tccli send it, on the same engine as `run` (DESIGN.md §2): the
//! scenario supplies the world (group, launch configuration, timing, faults), clients supply the
//! calls, and each call is `Simulation::submit` at the clock's simulated now.
//!
//! Threads: one accepts connections into a bounded queue, a fixed pool of workers serves one
//! connection each (keep-alive), and with a scaled or real clock one more keeps the engine up to
//! date. The engine sits behind one mutex: every request is applied atomically, in arrival
//! order. Every input is bounded (`ServeLimits`).
//!
//! Modules: `http` (reading and writing HTTP/1.1), `tencent` (the 3.0 request checks), `auth`
//! (TC3-HMAC-SHA256), `clock` (manual, scaled, real), `session` (the engine and its timeline),
//! `routes` (API and control endpoints).

pub mod auth;
pub mod clock;
pub mod http;
pub mod routes;
pub mod session;
pub mod tencent;

use crate::scenario::Scenario;
use auth::Credentials;
use clock::ClockMode;
use http::{Body, Connection, ReadLimits, Response, response_to_read_error};
use session::{DEFAULT_SESSION_LIMITS, Session, SessionLimits, SessionTemplate};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Where `serve` listens unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:18419";

/// Limits on everything a client can send or hold.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A larger request body is `RequestSizeLimitExceeded` (not read).
    pub body_bytes_max: usize,
    /// Request line plus headers.
    pub head_bytes_max: usize,
    pub headers_max: usize,
    /// Connections served at once; each worker serves one connection.
    pub workers: usize,
    /// Accepted connections waiting for a worker; past it a connection gets 503.
    pub queue: usize,
    /// An idle keep-alive connection is closed after this long.
    pub idle_timeout: Duration,
    /// A request must arrive whole (head and body) this long after its first byte, a
    /// connection's first request this long after a worker takes the connection up (408 and
    /// close otherwise), so a trickling client holds a worker no longer than this.
    pub request_deadline: Duration,
    pub requests_per_connection_max: u64,
    pub session: SessionLimits,
}

pub const DEFAULT_LIMITS: ServeLimits = ServeLimits {
    body_bytes_max: 1024 * 1024,
    head_bytes_max: 16 * 1024,
    headers_max: 64,
    // Each idle keep-alive client holds a worker until the idle timeout: enough workers for a
    // test suite's clients, and a short enough timeout to hand idle ones back.
    workers: 64,
    queue: 64,
    idle_timeout: Duration::from_secs(15),
    request_deadline: Duration::from_secs(10),
    requests_per_connection_max: 1_000_000,
    session: DEFAULT_SESSION_LIMITS,
};

/// After a response to a request whose body was not read, read and drop at most this much
/// before closing, so the client still gets the response.
const LINGER_DRAIN_BYTES_MAX: usize = 16 * 1024 * 1024;
const LINGER_TIMEOUT: Duration = Duration::from_secs(2);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a scaled or real clock brings the engine up to date between requests.
const TICK: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub clock: ClockMode,
    /// With credentials, every API call must carry a valid TC3-HMAC-SHA256 signature.
    pub credentials: Option<Credentials>,
    /// Default: the scenario's seed.
    pub seed: Option<u64>,
    pub limits: ServeLimits,
}

/// What every thread of a server shares.
pub struct Shared {
    pub config: ServeConfig,
    pub template: SessionTemplate,
    pub session: Mutex<Session>,
    stopping: AtomicBool,
}

pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

/// A server running on its own threads (tests start one in-process).
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Server {
    /// Builds the world and binds the listener (port 0 picks a free port).
    pub fn bind(scenario: Scenario, config: ServeConfig) -> Result<Server, String> {
        let seed = config.seed.unwrap_or(scenario.seed);
        let template = SessionTemplate::new(scenario, seed, config.limits.session)
            .map_err(|e| e.to_string())?;
        let listener = TcpListener::bind(config.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let session = Session::new(&template, config.clock, Instant::now());
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                config,
                template,
                session: Mutex::new(session),
                stopping: AtomicBool::new(false),
            }),
        })
    }

    /// What the server serves: the scenario, its meta and seed.
    pub fn template(&self) -> &SessionTemplate {
        &self.shared.template
    }

    /// What a request is routed with (the fuzz suite's `serve_http` target routes in-process).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the process ends.
    pub fn run(self) -> io::Result<()> {
        let handle = self.spawn()?;
        if let Some(acceptor) = handle.acceptor {
            let _ = acceptor.join();
        }
        Ok(())
    }

    /// Starts the acceptor, the workers and (for scaled and real clocks) the ticker.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let addr = self.listener.local_addr()?;
        let limits = self.shared.config.limits;
        let (sender, receiver) = sync_channel::<TcpStream>(limits.queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..limits.workers.max(1) {
            let (shared, receiver) = (self.shared.clone(), receiver.clone());
            thread::Builder::new()
                .name(format!("serve-worker-{n}"))
                .spawn(move || worker(&shared, &receiver))?;
        }
        if self.shared.config.clock.runs_by_itself() {
            let shared = self.shared.clone();
            thread::Builder::new()
                .name("serve-clock".into())
                .spawn(move || ticker(&shared))?;
        }
        let shared = self.shared.clone();
        let listener = self.listener;
        let acceptor = thread::Builder::new()
            .name("serve-accept".into())
            .spawn(move || accept(&shared, &listener, &sender))?;
        Ok(ServerHandle {
            addr,
            shared: self.shared,
            acceptor: Some(acceptor),
        })
    }
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections. Workers finish their connection (at most the idle timeout).
    pub fn shutdown(mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor up from `accept`.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept(shared: &Shared, listener: &TcpListener, queue: &SyncSender<TcpStream>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of descriptors or a connection reset before accept: back off a little.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        match queue.try_send(stream) {
            Ok(()) => {}
            Err(TrySendError::Full(stream)) => {
                Connection::new(stream).refuse(&routes::server_busy());
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}

fn worker(shared: &Shared, queue: &Mutex<Receiver<TcpStream>>) {
    loop {
        let next = queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        let Ok(stream) = next else {
            return; // the acceptor is gone
        };
        serve_connection(shared, stream);
    }
}

fn read_limits(limits: &ServeLimits) -> ReadLimits {
    ReadLimits {
        head_bytes_max: limits.head_bytes_max,
        headers_max: limits.headers_max,
        body_bytes_max: limits.body_bytes_max,
        idle_timeout: limits.idle_timeout,
        request_deadline: limits.request_deadline,
    }
}

fn serve_connection(shared: &Shared, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let limits = shared.config.limits;
    let mut connection = Connection::new(stream);
    for _ in 0..limits.requests_per_connection_max {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let request = match connection.read_request(&read_limits(&limits)) {
            Ok(request) => request,
            Err(error) => {
                if let Some(response) = response_to_read_error(&error) {
                    let _ = connection.write_response(&response);
                    connection.linger_close(LINGER_DRAIN_BYTES_MAX, LINGER_TIMEOUT);
                }
                return;
            }
        };
        if request.method == "CONNECT" {
            match http::connect_target(&request.path) {
                Ok(()) if connection.write_tunnel_established().is_ok() => continue,
                Ok(()) => return,
                Err(why) => {
                    let _ = connection.write_response(&protocol_error(&why));
                    connection.linger_close(LINGER_DRAIN_BYTES_MAX, LINGER_TIMEOUT);
                    return;
                }
            }
        }
        let body_unread = matches!(request.body, Body::TooLarge { .. });
        let mut response = catch_unwind(AssertUnwindSafe(|| routes::route(shared, &request)))
            .unwrap_or_else(|_| internal_error());
        response.close |= request.close || body_unread;
        if connection.write_response(&response).is_err() {
            return;
        }
        if body_unread {
            connection.linger_close(LINGER_DRAIN_BYTES_MAX, LINGER_TIMEOUT);
            return;
        }
        if response.close {
            return;
        }
    }
}

/// A request `serve` does not take, as 400 with the API envelope (closing).
fn protocol_error(why: &str) -> Response {
    let error = crate::api::ApiError::new(
        crate::api::ErrorCode::UnsupportedProtocol,
        format!("HTTP(S) request protocol error: {why}."),
    );
    let body = serde_json::to_vec(&error.envelope("")).expect("JSON values always serialize");
    Response::json(400, body).closing()
}

/// A bug must not take a worker down: the client gets `InternalError`, the server goes on.
fn internal_error() -> Response {
    let error = crate::api::ApiError::new(
        crate::api::ErrorCode::InternalError,
        "refreshsim serve failed to handle this request (a bug: please report it)",
    );
    let body = serde_json::to_vec(&error.envelope("")).expect("JSON values always serialize");
    Response::json(200, body).closing()
}

fn ticker(shared: &Shared) {
    while !shared.stopping.load(Ordering::SeqCst) {
        thread::sleep(TICK);
        shared
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .catch_up(Instant::now());
    }
}
