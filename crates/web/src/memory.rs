//! Memory after large requests: an import or upload parses, checks and frees tens to hundreds of
//! megabytes; glibc's malloc would keep that peak in its arenas for good (628 MB after big imports
//! against 76 MB at start, before this). [`trim_after_large_bodies`] — one layer in front of every
//! route, so no upload handler can forget it — hands the freed memory back once a request with a
//! large body has been answered. The trim runs on a blocking thread, at most one at a time; a
//! request that finishes meanwhile gets one more round.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicBool, Ordering};

pub use stadtmauer_memory::{limit_arenas, rss_bytes, trim};

/// A request body at least this large (every file upload, every import) is followed by a trim.
/// Forms stay below it; a trim costs a few milliseconds of one blocking thread.
pub const TRIM_AFTER_BODY_BYTES: u64 = 256 * 1024;

static PENDING: AtomicBool = AtomicBool::new(false);
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Trims on a blocking thread, soon; coalesces calls that arrive while a trim runs.
pub fn trim_soon() {
    PENDING.store(true, Ordering::SeqCst);
    if RUNNING.swap(true, Ordering::SeqCst) {
        return; // the running trim sees PENDING and goes once more
    }
    let work = || loop {
        while PENDING.swap(false, Ordering::SeqCst) {
            let before = rss_bytes();
            trim();
            tracing::debug!(
                before_mb = before.map(|b| b / (1024 * 1024)),
                after_mb = rss_bytes().map(|b| b / (1024 * 1024)),
                "freed memory returned to the operating system"
            );
        }
        RUNNING.store(false, Ordering::SeqCst);
        // A call between the last swap and the store above found RUNNING set and left: take it.
        if !PENDING.load(Ordering::SeqCst) || RUNNING.swap(true, Ordering::SeqCst) {
            break;
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn_blocking(work);
        }
        Err(_) => work(),
    }
}

/// Middleware: after a request whose body was large (by `Content-Length`, or chunked without
/// one), trim once the answer is ready.
pub async fn trim_after_large_bodies(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let large = length.map_or(chunked, |n| n >= TRIM_AFTER_BODY_BYTES);
    let resp = next.run(req).await;
    if large {
        trim_soon();
    }
    resp
}
