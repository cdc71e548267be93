//! The HTTP server: an accept loop that bounds what one client can hold.
//!
//! `axum::serve` keeps every connection open for as long as the client likes; a few hundred
//! clients sending headers one byte at a time (slowloris) hold the server. Here every connection
//! is watched:
//!
//! * **header read timeout** — a request head (request line and headers) must be complete within
//!   this time, counted from the accept for the first request and from its first byte for every
//!   later one on the same connection;
//! * **keep-alive idle timeout** — a connection that has sent and received nothing since its
//!   last response is closed after this time (a client that stops reading a response counts as
//!   idle too);
//! * **request body timeout** — a body must arrive within this time after its head, plus one
//!   second for every 64 KiB already received, so a large upload over a slow line completes but a
//!   trickle of a few bytes a second does not hold a connection;
//! * **maximum connections** — at the limit the loop stops accepting: further connections wait in
//!   the kernel's listen queue and are served as soon as a slot frees (the timeouts above free
//!   slots within bounded time). Waiting was chosen over refusing: a short burst of legitimate
//!   browsers (six connections each) is slowed, never turned into errors, and a waiting
//!   connection costs the process nothing.
//!
//! Graceful shutdown as before: on SIGTERM or Ctrl-C the listener closes, idle connections close,
//! requests in flight finish and their connections close afterwards.

use axum::extract::connect_info::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// Connection limits; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub keep_alive_idle: Duration,
    pub request_body: Duration,
    pub max_connections: usize,
}

/// Every 64 KiB of body received extends the body deadline by one second.
const BODY_BYTES_PER_EXTRA_SECOND: u64 = 64 * 1024;

/// Serve `app` on `listener` until `shutdown` completes, then finish the requests in flight.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .keep_alive(true)
        // hyper's own timer runs from the end of the previous response (or the accept) to the
        // complete head; it is only the backstop here, the watchdog below is more precise.
        .header_read_timeout(limits.header_read + limits.keep_alive_idle);
    tokio::pin!(shutdown);
    let mut warned_full: Option<Instant> = None;
    loop {
        if slots.available_permits() == 0
            && warned_full.is_none_or(|t| t.elapsed() > Duration::from_secs(60))
        {
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection limit reached; new connections wait until one closes"
            );
            warned_full = Some(Instant::now());
        }
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            io: stream,
            activity: activity.clone(),
        });
        let service = ConnService {
            app: app.clone(),
            addr,
            activity: activity.clone(),
            body_timeout: limits.request_body,
        };
        let conn = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            tokio::select! {
                r = conn => if let Err(e) = r {
                    tracing::debug!(%addr, error = %e, "connection ended with an error");
                },
                why = watchdog(&activity, limits) => {
                    tracing::debug!(%addr, why, "connection closed");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "waiting for requests in flight"
    );
    graceful.shutdown().await;
    Ok(())
}

/// Errors of `accept` that concern one connection are skipped; others (out of file descriptors)
/// get a short pause so the loop does not spin.
async fn accept_error(e: io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted | WouldBlock
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// What the watchdog knows about one connection. `changed` wakes it when a deadline may have
/// moved earlier (a request head began) or a request started or ended.
struct Activity {
    state: Mutex<ActivityState>,
    changed: Notify,
}

struct ActivityState {
    /// Requests handed to the application whose response is not ready yet.
    in_flight: u32,
    /// When the head of the next request began: the accept for the first one, its first byte
    /// for later ones. `None` while idle between requests.
    head_started: Option<Instant>,
    /// The last byte read or written (or the last response handed over).
    last_io: Instant,
}

impl Activity {
    fn new() -> Activity {
        let now = Instant::now();
        Activity {
            state: Mutex::new(ActivityState {
                in_flight: 0,
                head_started: Some(now),
                last_io: now,
            }),
            changed: Notify::new(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut ActivityState) -> R) -> R {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s)
    }

    fn read(&self) {
        let head_began = self.with(|s| {
            let now = Instant::now();
            s.last_io = now;
            let began = s.in_flight == 0 && s.head_started.is_none();
            if began {
                s.head_started = Some(now);
            }
            began
        });
        if head_began {
            self.changed.notify_one();
        }
    }

    fn wrote(&self) {
        self.with(|s| s.last_io = Instant::now());
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.with(|s| {
            s.in_flight += 1;
            s.head_started = None;
        });
        self.changed.notify_one();
        InFlight(self.clone())
    }

    /// When the connection is to be closed, and why; `None` while a request is in flight.
    fn deadline(&self, limits: Limits) -> Option<(Instant, &'static str)> {
        self.with(|s| {
            if s.in_flight > 0 {
                None
            } else if let Some(t) = s.head_started {
                Some((t + limits.header_read, "header read timeout"))
            } else {
                Some((
                    s.last_io + limits.keep_alive_idle,
                    "keep-alive idle timeout",
                ))
            }
        })
    }
}

/// A request in flight; ends when dropped (also when the connection is torn down).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.with(|s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            s.last_io = Instant::now();
        });
        self.0.changed.notify_one();
    }
}

/// Completes when the connection has overstayed a timeout. Sleeps until the current deadline,
/// or until the state changes (a change stored while it computes is not lost: `notify_one`
/// keeps a permit).
async fn watchdog(activity: &Activity, limits: Limits) -> &'static str {
    loop {
        match activity.deadline(limits) {
            // A request is being handled: the handler and the body timeout take care of it.
            None => activity.changed.notified().await,
            Some((at, why)) if at <= Instant::now() => return why,
            Some((at, _)) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = activity.changed.notified() => {}
                }
            }
        }
    }
}

/// The TCP stream, telling the watchdog about every byte that moves.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The application for one connection: adds the client address (`ConnectInfo`, used by the
/// login throttling) and the body deadline, and tells the watchdog a request is in flight.
#[derive(Clone)]
struct ConnService {
    app: Router,
    addr: SocketAddr,
    activity: Arc<Activity>,
    body_timeout: Duration,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnService {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let guard = self.activity.begin();
        let (addr, timeout) = (self.addr, self.body_timeout);
        let mut req = req.map(|body| axum::body::Body::new(DeadlineBody::new(body, timeout, addr)));
        req.extensions_mut().insert(ConnectInfo(addr));
        let app = self.app.clone();
        Box::pin(async move {
            let response = app.oneshot(req).await;
            drop(guard);
            response
        })
    }
}

/// A request body that fails once its deadline passes (see the module documentation).
struct DeadlineBody {
    inner: Incoming,
    timeout: Duration,
    started: Instant,
    received: u64,
    sleep: Pin<Box<Sleep>>,
    addr: SocketAddr,
}

impl DeadlineBody {
    fn new(inner: Incoming, timeout: Duration, addr: SocketAddr) -> DeadlineBody {
        let started = Instant::now();
        DeadlineBody {
            inner,
            timeout,
            started,
            received: 0,
            sleep: Box::pin(tokio::time::sleep_until(started + timeout)),
            addr,
        }
    }

    fn deadline(&self) -> Instant {
        self.started
            + self.timeout
            + Duration::from_secs(self.received / BODY_BYTES_PER_EXTRA_SECOND)
    }
}

/// The body did not arrive in time.
#[derive(Debug)]
pub struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body not received in time")
    }
}

impl std::error::Error for BodyTimeout {}

impl http_body::Body for DeadlineBody {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let deadline = this.deadline();
        if this.sleep.deadline() != deadline {
            this.sleep.as_mut().reset(deadline);
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            tracing::info!(addr = %this.addr, received = this.received, "request body timeout");
            return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
