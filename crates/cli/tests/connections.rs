//! What one client can hold of a running `serve`: slow request heads are cut off, idle
//! keep-alive connections close, trickled bodies time out, and connections over the maximum wait
//! until a slot frees. Every loop is bounded; only 127.0.0.1 is used.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use stadtmauer_store::testkit::empty_database;
use stadtmauer_store::Store;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_stadtmauer");

/// A running `serve` process; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(url: &str, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(BIN)
        .args(["--database-url", url, "serve", "--listen", "127.0.0.1:0"])
        .env("STADTMAUER_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    Server { child, addr }
}

fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s
}

/// Waits (at most `limit`) until the server closes `s`, calling `tick` every 100 ms meanwhile
/// (a write error also counts as closed). Returns the time it took, or `None` when still open.
fn wait_closed(
    s: &mut TcpStream,
    limit: Duration,
    mut tick: impl FnMut(&mut TcpStream) -> std::io::Result<()>,
) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if tick(s).is_err() {
                    return Some(start.elapsed());
                }
            }
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// Reads one response (head and `Content-Length` body) within `limit`; `None` when none came.
fn read_response(s: &mut TcpStream, limit: Duration) -> Option<String> {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= len {
                return Some(text);
            }
        }
    }
    None
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[tokio::test]
async fn slow_heads_are_cut_off_while_others_are_served() {
    let db = empty_database().await;
    let server = serve(
        &db.url,
        &[
            ("STADTMAUER_HEADER_READ_TIMEOUT_SECS", "1"),
            ("STADTMAUER_KEEP_ALIVE_IDLE_SECS", "30"),
        ],
    );
    // Twenty slowloris clients: a request line, then one header line every 100 ms, never the
    // blank line that ends the head.
    let slow: Vec<_> = (0..20)
        .map(|i| {
            let addr = server.addr.clone();
            std::thread::spawn(move || {
                let mut s = connect(&addr);
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    .unwrap();
                wait_closed(&mut s, Duration::from_secs(10), |s| {
                    s.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
                })
            })
        })
        .collect();
    // Meanwhile an ordinary request is answered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = reqwest::get(format!("http://{}/healthz", server.addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for t in slow {
        let took = t.join().unwrap().expect("a slow head was not cut off");
        assert!(took < Duration::from_secs(5), "cut off only after {took:?}");
    }
    // A connection that sends nothing at all gets the same time for its first head.
    let mut silent = connect(&server.addr);
    let took = wait_closed(&mut silent, Duration::from_secs(10), |_| Ok(())).unwrap();
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Headers that keep arriving after a complete request are timed from their first byte.
    let mut s = connect(&server.addr);
    s.write_all(HEALTH).unwrap();
    let r = read_response(&mut s, Duration::from_secs(10)).expect("no answer");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    // Idle for a while first (the idle timeout is 30 s), so the watchdog sleeps towards the
    // idle deadline when the slow head begins.
    std::thread::sleep(Duration::from_millis(1500));
    s.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    let took = wait_closed(&mut s, Duration::from_secs(10), |s| {
        s.write_all(b"X-Slow: 1\r\n")
    })
    .expect("a slow second head was not cut off");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn idle_keep_alive_connections_close_after_their_own_timeout() {
    let db = empty_database().await;
    let server = serve(
        &db.url,
        &[
            ("STADTMAUER_HEADER_READ_TIMEOUT_SECS", "1"),
            ("STADTMAUER_KEEP_ALIVE_IDLE_SECS", "3"),
        ],
    );
    let mut s = connect(&server.addr);
    for _ in 0..2 {
        s.write_all(HEALTH).unwrap();
        let r = read_response(&mut s, Duration::from_secs(10)).expect("no answer");
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    }
    // Idle after a response: closed by the idle timeout (3 s), not by the header timeout (1 s).
    let took = wait_closed(&mut s, Duration::from_secs(15), |_| Ok(()))
        .expect("an idle connection stayed open");
    assert!(
        took >= Duration::from_millis(2500),
        "closed too early: {took:?}"
    );
    assert!(took < Duration::from_secs(8), "closed only after {took:?}");
}

#[tokio::test]
async fn a_trickled_body_times_out() {
    let db = empty_database().await;
    let server = serve(
        &db.url,
        &[
            ("STADTMAUER_HEADER_READ_TIMEOUT_SECS", "2"),
            ("STADTMAUER_REQUEST_BODY_TIMEOUT_SECS", "1"),
        ],
    );
    let mut s = connect(&server.addr);
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n",
    )
    .unwrap();
    // Ten bytes every 100 ms would take 100 s; the server gives up after about a second.
    let took = wait_closed(&mut s, Duration::from_secs(20), |s| {
        s.write_all(b"a=bbbbbbb&")
    })
    .expect("a trickled body held the connection");
    assert!(took < Duration::from_secs(8), "closed only after {took:?}");
}

#[tokio::test]
async fn connections_over_the_maximum_wait_for_a_free_slot() {
    let db = empty_database().await;
    let server = serve(
        &db.url,
        &[
            ("STADTMAUER_MAX_CONNECTIONS", "2"),
            ("STADTMAUER_HEADER_READ_TIMEOUT_SECS", "60"),
        ],
    );
    let mut first = connect(&server.addr);
    first.write_all(HEALTH).unwrap();
    assert!(read_response(&mut first, Duration::from_secs(10)).is_some());
    let mut second = connect(&server.addr);
    second.write_all(HEALTH).unwrap();
    assert!(read_response(&mut second, Duration::from_secs(10)).is_some());
    // Both slots are taken (kept alive); a third connection waits in the listen queue.
    let mut third = connect(&server.addr);
    third.write_all(HEALTH).unwrap();
    assert!(
        read_response(&mut third, Duration::from_millis(1500)).is_none(),
        "a third connection was served beyond the maximum of two"
    );
    // One slot frees: the waiting connection is served.
    drop(first);
    let r = read_response(&mut third, Duration::from_secs(10)).expect("the waiting one starved");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    drop(second);
    drop(third);
}

/// The client address still reaches the login throttling (the per-address counter), as it did
/// with `axum::serve`'s connect info.
#[tokio::test]
async fn the_client_address_reaches_the_login_throttling() {
    let db = empty_database().await;
    let server = serve(&db.url, &[]);
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("http://{}/login", server.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let r = http
        .post(format!("http://{}/login", server.addr))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "niemand@example.org"),
            ("password", "falsch-falsch-falsch"),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let store = Store::connect(&db.url).await.unwrap();
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM login_throttle")
        .fetch_all(store.pool())
        .await
        .unwrap();
    store.close().await;
    let ours = stadtmauer_store::sessions::address_key("127.0.0.1");
    let unknown = stadtmauer_store::sessions::address_key("unknown");
    assert!(keys.contains(&ours), "{keys:?}");
    assert!(!keys.contains(&unknown), "{keys:?}");
}

/// SIGTERM: the listener closes at once, a request in flight still gets its answer, then the
/// process exits cleanly.
#[cfg(unix)]
#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish() {
    let db = empty_database().await;
    let mut server = serve(&db.url, &[]);
    let mut idle = connect(&server.addr);
    idle.write_all(HEALTH).unwrap();
    assert!(read_response(&mut idle, Duration::from_secs(10)).is_some());
    let mut s = connect(&server.addr);
    s.write_all(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nemail",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The idle keep-alive connection is closed, new connections are refused.
    assert!(wait_closed(&mut idle, Duration::from_secs(5), |_| Ok(())).is_some());
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(&server.addr).is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The request in flight completes (refused for its missing CSRF token, but answered).
    s.write_all(b"=x@y.").unwrap();
    let r = read_response(&mut s, Duration::from_secs(10)).expect("the request in flight was cut");
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = server.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}
