//! `stadtmauer-bench`: load benchmarks against a real `stadtmauer` server.
//!
//! The benchmark starts the server binary with a fresh demo database in a temporary directory,
//! logs in as a demo user, creates a read-only API token and then lets many concurrent clients
//! hammer the dashboard page and the organisation list of the API. It reports throughput,
//! latency percentiles and the server's peak memory (RSS from `/proc/<pid>/status`).
//!
//! Build both binaries first, then run the benchmark:
//!
//! ```text
//! cargo build --release -p stadtmauer -p stadtmauer-bench
//! ./target/release/stadtmauer-bench dashboard [--clients 100] [--seconds 20] [--bin PATH]
//! ```
//!
//! (`cargo run --release -p stadtmauer-bench -- dashboard` works too, but only builds the
//! benchmark itself; the server binary must already exist next to it or be given with `--bin`.)

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};

mod continuity;
mod council;
mod graph;
mod import;
mod security;
mod updates;
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use reqwest::{redirect, Client, StatusCode};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The demo user the benchmark logs in as (Informationssicherheitsbüro of Landkreis Musterau).
const DEMO_EMAIL: &str = "katrin.vogt@isb-musterau.example";
const SESSION_COOKIE: &str = "sm_session";
const BUILD_HINT: &str = "cargo build --release -p stadtmauer -p stadtmauer-bench";
/// Migrating and loading the demo data hashes passwords; give a slow machine time.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(180);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const RSS_SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Parser)]
#[command(
    name = "stadtmauer-bench",
    version,
    about = "Load benchmarks: starts the server with demo data and measures throughput, latency and memory.",
    after_help = "Build the server and the benchmark first:\n  cargo build --release -p stadtmauer -p stadtmauer-bench"
)]
struct Cli {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Concurrent clients alternating GET /dashboard (session cookie) and
    /// GET /api/v1/organisations (bearer token).
    Dashboard {
        /// Number of concurrent clients (1–1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        clients: u32,
        /// Duration of the load phase in seconds (1–300).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=300))]
        seconds: u64,
        /// The server binary (default: `stadtmauer` next to this executable).
        #[arg(long)]
        bin: Option<PathBuf>,
    },
    /// The Schutzbedarf engine and the provider-concentration view on a synthetic Verbund of 15
    /// towns (in memory, then through the store on SQLite).
    Graph {
        /// Number of objects (1,000–1,000,000).
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1_000..=1_000_000))]
        objects: u64,
        /// Number of links (1,000–3,000,000).
        #[arg(long, default_value_t = 300_000, value_parser = clap::value_parser!(u64).range(1_000..=3_000_000))]
        links: u64,
        /// Only the engine in memory, without the database part.
        #[arg(long)]
        engine_only: bool,
    },
    /// The update-watch matcher on one core: installed software against end-of-life data, the
    /// KEV catalog and synthetic CSAF advisories; then the re-match after a KEV update.
    Updates {
        /// Installed-software rows.
        #[arg(long, default_value_t = 1_000_000)]
        installations: usize,
        /// Synthetic CSAF advisories.
        #[arg(long, default_value_t = 10_000)]
        advisories: usize,
    },
    /// The council report: one town's PDF, then every member's and the Verbund report, on the
    /// demo Landkreis in SQLite.
    Council {
        /// Threads rendering PDFs.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Also write one town's public report and the Verbund report as PDFs into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Restart order and readiness of a synthetic Verbund (in memory), then one demo town's
    /// emergency handbook as HTML and PDF from SQLite.
    Continuity {
        /// Objects in the synthetic Verbund.
        #[arg(long, default_value_t = 100_000)]
        objects: usize,
        /// Towns in the synthetic Verbund.
        #[arg(long, default_value_t = 15)]
        towns: usize,
    },
    /// A large spreadsheet import through the store while another town writes, then creating
    /// one object at half a million objects. SQLite by default; `--postgres URL` (a server URL
    /// whose user may create databases) runs it on a new PostgreSQL database, dropped afterwards.
    Import {
        /// Spreadsheet rows (100–200,000).
        #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(100..=200_000))]
        rows: u64,
        /// Objects in the installation when single creations are timed (1,000–2,000,000).
        #[arg(long, default_value_t = 500_000, value_parser = clap::value_parser!(u64).range(1_000..=2_000_000))]
        objects: u64,
        /// Admin URL of a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/test).
        #[arg(long)]
        postgres: Option<String>,
    },
    /// The Grundschutz++ catalog (cold import, search p99) and the Verbund heatmap read from
    /// stored per-practice snapshots (15 towns × 901 requirements × 5 years).
    Security {
        /// Towns in the synthetic Verbund.
        #[arg(long, default_value_t = 15)]
        towns: usize,
        /// Years of monthly snapshots per town.
        #[arg(long, default_value_t = 5)]
        years: u32,
    },
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            BenchCommand::Dashboard {
                clients,
                seconds,
                bin,
            } => {
                // Ctrl-C ends the benchmark through the normal error path, so the server is
                // killed and the temporary directory removed.
                tokio::select! {
                    r = dashboard(clients as usize, Duration::from_secs(seconds), bin) => r,
                    _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
                }
            }
            BenchCommand::Graph {
                objects,
                links,
                engine_only,
            } => graph::run(objects as usize, links as usize, !engine_only).await,
            BenchCommand::Updates {
                installations,
                advisories,
            } => updates::run(installations, advisories),
            BenchCommand::Security { towns, years } => security::run(towns, years).await,
            BenchCommand::Import {
                rows,
                objects,
                postgres,
            } => import::run(rows as usize, objects as usize, postgres).await,
            BenchCommand::Council { threads, out } => council::run(threads, out).await,
            BenchCommand::Continuity { objects, towns } => continuity::run(objects, towns).await,
        }
    });
    // Client tasks may still hold connections; don't wait for them.
    runtime.shutdown_timeout(Duration::from_millis(500));
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

/// The running server. Dropping it kills the process and removes the temporary directory, so
/// every exit path (errors included) cleans up.
struct Server {
    child: Child,
    pid: u32,
    dir: PathBuf,
    base: String,
    password: String,
    stderr: Arc<Mutex<StderrLog>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the server wrote to stderr: the first lines (for startup failures) and, for the
/// report, how often each distinct message (without timestamp and colours) occurred.
#[derive(Default)]
struct StderrLog {
    lines: u64,
    first: Vec<String>,
    distinct: BTreeMap<String, u64>,
}

const STDERR_KEEP: usize = 20;
/// At most this many distinct messages are counted; the rest land in one bucket.
const STDERR_DISTINCT: usize = 200;

impl StderrLog {
    fn add(&mut self, line: String) {
        self.lines += 1;
        let message = log_message(&line);
        if self.distinct.len() < STDERR_DISTINCT || self.distinct.contains_key(&message) {
            *self.distinct.entry(message).or_default() += 1;
        } else {
            *self.distinct.entry("(other messages)".into()).or_default() += 1;
        }
        if self.first.len() < STDERR_KEEP {
            self.first.push(line);
        }
    }

    /// The most frequent messages with their counts.
    fn summary(&self, top: usize) -> String {
        let mut by_count: Vec<(&String, &u64)> = self.distinct.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let mut out: Vec<String> = by_count
            .iter()
            .take(top)
            .map(|(m, n)| format!("  {n:>8}× {m}"))
            .collect();
        if by_count.len() > top {
            out.push(format!(
                "  … and {} more distinct messages",
                by_count.len() - top
            ));
        }
        out.join("\n")
    }
}

/// A log line without ANSI colours and without its leading timestamp, so repeats group.
fn log_message(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI sequence: ESC [ parameters final-byte
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let trimmed = plain.trim();
    match trimmed.split_once(char::is_whitespace) {
        Some((first, rest)) if first.len() >= 19 && first.as_bytes().get(10) == Some(&b'T') => {
            rest.trim().to_string()
        }
        _ => trimmed.to_string(),
    }
}

fn server_binary(bin: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let path = match bin {
        Some(p) => p,
        None => {
            let exe = std::env::current_exe().context("cannot determine this executable's path")?;
            let dir = exe
                .parent()
                .ok_or_else(|| anyhow!("executable {} has no directory", exe.display()))?;
            dir.join("stadtmauer")
        }
    };
    if !path.is_file() {
        bail!(
            "server binary not found at {}.\nBuild it first:\n  {BUILD_HINT}\nor pass its path with --bin PATH.",
            path.display()
        );
    }
    Ok(path)
}

fn temp_dir() -> anyhow::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("stadtmauer-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir)
        .with_context(|| format!("cannot create temporary directory {}", dir.display()))?;
    Ok(dir)
}

/// Starts `<bin> --database-url sqlite://<tmp>/bench.sqlite3 serve --demo --listen 127.0.0.1:0`
/// and waits for the demo password and the listen address on its stdout.
async fn start_server(bin: &Path) -> anyhow::Result<Server> {
    let dir = temp_dir()?;
    let db = dir.join("bench.sqlite3");
    let mut cmd = Command::new(bin);
    cmd.arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(&dir)
        .env("STADTMAUER_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Settings from the caller's environment must not change what is measured (a config file
    // with an https public_url would, for instance, make the cookies Secure).
    for var in [
        "STADTMAUER_CONFIG",
        "STADTMAUER_DATABASE_URL",
        "STADTMAUER_LISTEN",
        "STADTMAUER_PUBLIC_URL",
        "STADTMAUER_TRUST_FORWARDED_FOR",
        "STADTMAUER_LOG_FORMAT",
    ] {
        cmd.env_remove(var);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e).with_context(|| format!("cannot start {}", bin.display()));
        }
    };
    let pid = child.id();
    let stdout = child.stdout.take();
    let stderr_pipe = child.stderr.take();
    let stderr = Arc::new(Mutex::new(StderrLog::default()));
    // From here on the guard owns the process: any early return kills it.
    let mut server = Server {
        child,
        pid,
        dir,
        base: String::new(),
        password: String::new(),
        stderr: stderr.clone(),
    };

    if let Some(pipe) = stderr_pipe {
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut log) = stderr.lock() {
                    log.add(line);
                }
            }
        });
    }

    // stdout is read by a thread (it keeps draining after startup so the pipe never fills);
    // lines arrive here through a channel.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let stdout = stdout.ok_or_else(|| anyhow!("server stdout not captured"))?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                // Nobody listens any more; keep draining.
                continue;
            }
        }
    });

    let deadline = tokio::time::Instant::now() + STARTUP_TIMEOUT;
    let mut seen = Vec::new();
    while server.base.is_empty() || server.password.is_empty() {
        let line = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => {
                // Give the stderr thread a moment to collect the reason.
                tokio::time::sleep(Duration::from_millis(200)).await;
                let status = server.child.try_wait().ok().flatten();
                bail!(
                    "the server exited before it was ready ({}).\nstdout:\n{}\nstderr:\n{}",
                    status.map_or_else(|| "still running".to_string(), |s| s.to_string()),
                    seen.join("\n"),
                    server.stderr_excerpt()
                );
            }
            Err(_) => bail!(
                "the server did not report its address within {} s.\nstdout:\n{}\nstderr:\n{}",
                STARTUP_TIMEOUT.as_secs(),
                seen.join("\n"),
                server.stderr_excerpt()
            ),
        };
        if let Some(addr) = line.split("listens on ").nth(1) {
            let addr = addr.trim().trim_end_matches('/');
            if !addr.starts_with("http://127.0.0.1:") {
                bail!("unexpected listen address {addr:?} (the benchmark only targets 127.0.0.1)");
            }
            server.base = addr.to_string();
        }
        if let Some(pw) = line.split("password of every demo user: ").nth(1) {
            let pw = pw.trim();
            if !is_demo_password(pw) {
                bail!("unexpected demo password format in line {line:?}");
            }
            server.password = pw.to_string();
        }
        seen.push(line);
    }
    Ok(server)
}

/// `XXXXX-XXXXX-XXXXX-XXXXX` with alphanumeric X.
fn is_demo_password(pw: &str) -> bool {
    let groups: Vec<&str> = pw.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

impl Server {
    fn stderr_excerpt(&self) -> String {
        match self.stderr.lock() {
            Ok(log) if log.lines == 0 => "(nothing)".to_string(),
            Ok(log) => {
                let mut s = log.first.join("\n");
                if log.lines > log.first.len() as u64 {
                    s.push_str(&format!("\n… ({} lines in total)", log.lines));
                }
                s
            }
            Err(_) => "(unavailable)".to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

// ---------------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------------

/// The number of a field of `/proc/<pid>/status` (kB for VmRSS and VmHWM, a count for Threads).
fn proc_status_num(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// (user, system) CPU time of a process in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
fn proc_cpu_ticks(pid: &str) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields after it are fixed.
    let after = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts with field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime, stime))
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// Logging in
// ---------------------------------------------------------------------------------------------

/// The value of the first hidden input `name="csrf"` of a page.
fn csrf_of(html: &str) -> anyhow::Result<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .ok_or_else(|| anyhow!("no csrf input in the page"))?
        + marker.len();
    let len = html[start..]
        .find('"')
        .ok_or_else(|| anyhow!("unterminated csrf value"))?;
    let token = &html[start..start + len];
    if token.is_empty() {
        bail!("empty csrf value");
    }
    Ok(token.to_string())
}

/// The token shown once in `<code id="secret">smt_…</code>`.
fn secret_of(html: &str) -> anyhow::Result<String> {
    let marker = "<code id=\"secret\">";
    let start = html
        .find(marker)
        .ok_or_else(|| anyhow!("no <code id=\"secret\"> in the token page"))?
        + marker.len();
    let len = html[start..]
        .find("</code>")
        .ok_or_else(|| anyhow!("unterminated <code id=\"secret\">"))?;
    let secret = html[start..start + len].trim();
    if !secret.starts_with("smt_") {
        bail!("the created token does not look like smt_…: {secret:?}");
    }
    Ok(secret.to_string())
}

fn client_builder() -> reqwest::ClientBuilder {
    Client::builder()
        .no_proxy()
        .redirect(redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
}

async fn expect_page(
    resp: reqwest::Response,
    what: &str,
    expected: StatusCode,
) -> anyhow::Result<String> {
    let status = resp.status();
    let body = resp
        .text()
        .await
        .with_context(|| format!("{what}: reading the body"))?;
    if status != expected {
        let excerpt: String = body.chars().take(300).collect();
        bail!("{what}: expected {expected}, got {status}: {excerpt}");
    }
    Ok(body)
}

/// The session cookie value and a read-only API token.
struct Credentials {
    session: String,
    token: String,
}

async fn login(server: &Server) -> anyhow::Result<Credentials> {
    let client = client_builder()
        .cookie_store(true)
        .build()
        .context("building the HTTP client")?;

    let resp = client
        .get(server.url("/login"))
        .send()
        .await
        .context("GET /login")?;
    let page = expect_page(resp, "GET /login", StatusCode::OK).await?;
    let csrf = csrf_of(&page).context("GET /login")?;

    let resp = client
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", DEMO_EMAIL),
            ("password", server.password.as_str()),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .context("POST /login")?;
    let status = resp.status();
    let session = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let first = v.split(';').next()?.trim();
            let value = first.strip_prefix(SESSION_COOKIE)?.strip_prefix('=')?;
            (!value.is_empty()).then(|| value.to_string())
        });
    if status != StatusCode::SEE_OTHER {
        let body = resp.text().await.unwrap_or_default();
        let excerpt: String = body.chars().take(300).collect();
        bail!("POST /login: expected 303 See Other, got {status}: {excerpt}");
    }
    let session =
        session.ok_or_else(|| anyhow!("POST /login: no {SESSION_COOKIE} cookie in the answer"))?;

    let resp = client
        .get(server.url("/account"))
        .send()
        .await
        .context("GET /account")?;
    let page = expect_page(resp, "GET /account", StatusCode::OK).await?;
    let csrf = csrf_of(&page).context("GET /account")?;

    let resp = client
        .post(server.url("/account/tokens"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "bench"),
            ("read_only", "1"),
            ("expires_in_days", "30"),
            // A new token asks for the password again.
            ("current_password", server.password.as_str()),
        ])
        .send()
        .await
        .context("POST /account/tokens")?;
    let page = expect_page(resp, "POST /account/tokens", StatusCode::OK).await?;
    let token = secret_of(&page).context("POST /account/tokens")?;

    Ok(Credentials { session, token })
}

// ---------------------------------------------------------------------------------------------
// The load
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Dashboard,
    Organisations,
}

impl Endpoint {
    const ALL: [Endpoint; 2] = [Endpoint::Dashboard, Endpoint::Organisations];

    fn label(self) -> &'static str {
        match self {
            Endpoint::Dashboard => "GET /dashboard",
            Endpoint::Organisations => "GET /api/v1/organisations",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Endpoint::Dashboard => "/dashboard",
            Endpoint::Organisations => "/api/v1/organisations",
        }
    }

    fn index(self) -> usize {
        match self {
            Endpoint::Dashboard => 0,
            Endpoint::Organisations => 1,
        }
    }

    fn other(self) -> Endpoint {
        match self {
            Endpoint::Dashboard => Endpoint::Organisations,
            Endpoint::Organisations => Endpoint::Dashboard,
        }
    }
}

/// What one client (or all clients together) measured for one endpoint.
#[derive(Default)]
struct Stats {
    /// Latencies of the successful requests in microseconds.
    ok_micros: Vec<u64>,
    errors: u64,
    /// Error kind → count (status codes, transport errors, wrong bodies).
    error_kinds: BTreeMap<String, u64>,
    bytes: u64,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.ok_micros.extend(other.ok_micros);
        self.errors += other.errors;
        for (k, n) in other.error_kinds {
            *self.error_kinds.entry(k).or_default() += n;
        }
        self.bytes += other.bytes;
    }

    fn error(&mut self, kind: String) {
        self.errors += 1;
        *self.error_kinds.entry(kind).or_default() += 1;
    }
}

/// One request; `Ok(bytes)` or the kind of error.
async fn one_request(
    client: &Client,
    url: &str,
    endpoint: Endpoint,
    creds: &Credentials,
) -> Result<(Duration, u64), String> {
    let started = Instant::now();
    let req = match endpoint {
        Endpoint::Dashboard => client
            .get(url)
            .header(COOKIE, format!("{SESSION_COOKIE}={}", creds.session)),
        Endpoint::Organisations => client
            .get(url)
            .header(AUTHORIZATION, format!("Bearer {}", creds.token)),
    };
    let resp = req.send().await.map_err(transport_error)?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(transport_error)?;
    let latency = started.elapsed();
    if status != StatusCode::OK {
        return Err(format!("HTTP {status}"));
    }
    if endpoint == Endpoint::Organisations {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Array(_)) => {}
            Ok(_) => return Err("JSON is not an array".into()),
            Err(_) => return Err("body is not JSON".into()),
        }
    }
    Ok((latency, body.len() as u64))
}

fn transport_error(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect error".into()
    } else if e.is_body() || e.is_decode() {
        "body error".into()
    } else {
        format!("transport error: {e}")
    }
}

async fn client_loop(
    id: usize,
    base: Arc<str>,
    creds: Arc<Credentials>,
    deadline: Instant,
    done: Arc<AtomicU64>,
) -> [Stats; 2] {
    let mut stats = [Stats::default(), Stats::default()];
    let client = match client_builder().pool_max_idle_per_host(1).build() {
        Ok(c) => c,
        Err(e) => {
            stats[0].error(format!("cannot build HTTP client: {e}"));
            return stats;
        }
    };
    let urls = Endpoint::ALL.map(|e| format!("{base}{}", e.path()));
    // Half the clients start with the API, so both endpoints are busy from the first moment.
    let mut endpoint = Endpoint::ALL[id % Endpoint::ALL.len()];
    while Instant::now() < deadline {
        let s = &mut stats[endpoint.index()];
        match one_request(&client, &urls[endpoint.index()], endpoint, &creds).await {
            Ok((latency, bytes)) => {
                s.ok_micros
                    .push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
                s.bytes += bytes;
            }
            Err(kind) => s.error(kind),
        }
        done.fetch_add(1, Ordering::Relaxed);
        endpoint = endpoint.other();
    }
    stats
}

/// Samples the server's VmRSS until `stop`; returns (max kB, number of samples).
async fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> (u64, u64) {
    let mut max = 0;
    let mut samples = 0;
    let mut tick = tokio::time::interval(RSS_SAMPLE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        if let Some(kb) = proc_status_num(pid, "VmRSS") {
            max = max.max(kb);
            samples += 1;
        }
    }
    (max, samples)
}

/// Prints the progress every few seconds on stderr.
async fn progress(done: Arc<AtomicU64>, stop: Arc<AtomicBool>, pid: u32) {
    let started = Instant::now();
    let mut last = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    loop {
        tick.tick().await;
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let now = done.load(Ordering::Relaxed);
        let rss = proc_status_num(pid, "VmRSS").map_or(0.0, mib);
        eprintln!(
            "  {:>5.1} s: {now} requests ({:.0}/s over the last 5 s), server RSS {rss:.1} MB",
            started.elapsed().as_secs_f64(),
            (now - last) as f64 / 5.0
        );
        last = now;
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard benchmark
// ---------------------------------------------------------------------------------------------

async fn dashboard(clients: usize, duration: Duration, bin: Option<PathBuf>) -> anyhow::Result<()> {
    let bin = server_binary(bin)?;
    eprintln!("Starting {} with a fresh demo database …", bin.display());
    let startup = Instant::now();
    let server = start_server(&bin).await?;
    eprintln!(
        "Server pid {} ready on {} after {:.1} s.",
        server.pid,
        server.base,
        startup.elapsed().as_secs_f64()
    );

    let creds = login(&server).await.context("logging in")?;
    eprintln!("Logged in as {DEMO_EMAIL}; read-only API token created.");

    // One request of each kind first: fail clearly instead of measuring errors.
    let probe = client_builder()
        .build()
        .context("building the HTTP client")?;
    let mut probe_info = Vec::new();
    for endpoint in Endpoint::ALL {
        let (latency, bytes) = one_request(&probe, &server.url(endpoint.path()), endpoint, &creds)
            .await
            .map_err(|e| anyhow!("probe {}: {e}", endpoint.label()))?;
        probe_info.push(format!(
            "{}: {bytes} bytes, {:.1} ms",
            endpoint.label(),
            latency.as_secs_f64() * 1000.0
        ));
    }
    drop(probe);
    eprintln!("Probe: {}", probe_info.join("; "));

    let idle_rss = proc_status_num(server.pid, "VmRSS");
    let ticks = clock_ticks_per_second();
    let pid_str = server.pid.to_string();
    let cpu_server_before = proc_cpu_ticks(&pid_str);
    let cpu_self_before = proc_cpu_ticks("self");

    eprintln!(
        "Load: {clients} clients for {} s against {} …",
        duration.as_secs(),
        server.base
    );
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(sample_rss(server.pid, stop.clone()));
    let reporter = tokio::spawn(progress(done.clone(), stop.clone(), server.pid));

    let base: Arc<str> = Arc::from(server.base.as_str());
    let creds = Arc::new(creds);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|id| {
            tokio::spawn(client_loop(
                id,
                base.clone(),
                creds.clone(),
                deadline,
                done.clone(),
            ))
        })
        .collect();
    let mut totals = [Stats::default(), Stats::default()];
    for task in tasks {
        let [d, o] = task.await.context("a client task failed")?;
        totals[0].merge(d);
        totals[1].merge(o);
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let cpu_server_after = proc_cpu_ticks(&pid_str);
    let cpu_self_after = proc_cpu_ticks("self");
    let (sampled_max, samples) = sampler.await.unwrap_or((0, 0));
    reporter.abort();
    let hwm = proc_status_num(server.pid, "VmHWM");
    let end_rss = proc_status_num(server.pid, "VmRSS");
    let peak_kb = sampled_max.max(hwm.unwrap_or(0));

    // ------------------------------------------------------------------ report
    let secs = elapsed.as_secs_f64();
    println!();
    println!(
        "dashboard benchmark: {clients} clients, {:.2} s (target {} s), server {}",
        secs,
        duration.as_secs(),
        bin.display()
    );
    println!(
        "{:<26} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "endpoint",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "KiB/resp"
    );
    let mut all = Stats::default();
    let mut rows = Vec::new();
    for endpoint in Endpoint::ALL {
        let s = std::mem::take(&mut totals[endpoint.index()]);
        rows.push((endpoint.label(), row(&s, secs)));
        all.merge(s);
    }
    let total = row(&all, secs);
    rows.push(("total", total.clone()));
    for (label, r) in &rows {
        println!(
            "{:<26} {:>9} {:>7} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10.1}",
            label, r.requests, r.errors, r.rps, r.p50, r.p90, r.p99, r.max, r.kib_per_resp
        );
    }
    println!("(req/s and latencies count successful requests; requests = successful + errors)");
    if !all.error_kinds.is_empty() {
        println!("errors:");
        for (kind, n) in &all.error_kinds {
            println!("  {n:>8}  {kind}");
        }
    }
    println!(
        "server RSS: peak {:.1} MB (VmHWM {}, max of {samples} VmRSS samples every {} ms {:.1} MB); before load {}, after load {}",
        mib(peak_kb),
        fmt_mb(hwm),
        RSS_SAMPLE_INTERVAL.as_millis(),
        mib(sampled_max),
        fmt_mb(idle_rss),
        fmt_mb(end_rss),
    );
    if let (Some(a), Some(b), Some(c), Some(d)) = (
        cpu_server_before,
        cpu_server_after,
        cpu_self_before,
        cpu_self_after,
    ) {
        let cores = |t: u64| t as f64 / ticks as f64 / secs;
        let (su, ss) = (b.0.saturating_sub(a.0), b.1.saturating_sub(a.1));
        let (cu, cs) = (d.0.saturating_sub(c.0), d.1.saturating_sub(c.1));
        println!(
            "CPU during load: server {:.2} cores (user {:.2}, system {:.2}), benchmark client {:.2} cores (user {:.2}, system {:.2}); machine has {}",
            cores(su + ss),
            cores(su),
            cores(ss),
            cores(cu + cs),
            cores(cu),
            cores(cs),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        if let Some(threads) = proc_status_num(server.pid, "Threads") {
            println!("server threads after load: {threads}");
        }
    }
    {
        if let Ok(log) = server.stderr.lock() {
            if log.lines > 0 {
                println!(
                    "server stderr (STADTMAUER_LOG=warn): {} line(s), by message:\n{}",
                    log.lines,
                    log.summary(10)
                );
            }
        }
    }
    println!(
        "BENCH dashboard rps={:.1} p50_ms={:.2} p99_ms={:.2} peak_rss_mb={:.1} errors={}",
        total.rps,
        total.p50,
        total.p99,
        mib(peak_kb),
        total.errors
    );
    drop(server);
    Ok(())
}

fn fmt_mb(kb: Option<u64>) -> String {
    kb.map_or_else(|| "n/a".to_string(), |kb| format!("{:.1} MB", mib(kb)))
}

#[derive(Clone)]
struct Row {
    requests: u64,
    errors: u64,
    rps: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    kib_per_resp: f64,
}

fn row(s: &Stats, secs: f64) -> Row {
    let mut sorted = s.ok_micros.clone();
    sorted.sort_unstable();
    let ok = sorted.len() as u64;
    let ms = |p: f64| percentile(&sorted, p) as f64 / 1000.0;
    Row {
        requests: ok + s.errors,
        errors: s.errors,
        rps: if secs > 0.0 { ok as f64 / secs } else { 0.0 },
        p50: ms(0.50),
        p90: ms(0.90),
        p99: ms(0.99),
        max: sorted.last().copied().unwrap_or(0) as f64 / 1000.0,
        kib_per_resp: if ok > 0 {
            s.bytes as f64 / ok as f64 / 1024.0
        } else {
            0.0
        },
    }
}

/// Nearest-rank percentile of sorted values (0 when empty).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&[7], 0.5), 7);
        assert_eq!(percentile(&[], 0.5), 0);
    }

    #[test]
    fn parses_pages() {
        let html = r#"<input type="hidden" name="csrf" value="abc-DEF_1"><input type="hidden" name="csrf" value="x">"#;
        assert_eq!(csrf_of(html).unwrap(), "abc-DEF_1");
        assert!(csrf_of("<p>nothing</p>").is_err());
        let page = r#"<p class="secret"><code id="secret">smt_abc123</code></p>"#;
        assert_eq!(secret_of(page).unwrap(), "smt_abc123");
        assert!(secret_of(r#"<code id="secret">nope</code>"#).is_err());
    }

    #[test]
    fn log_lines_group() {
        let a = "\u{1b}[2m2026-11-28T00:08:11.590481Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m web: missing key=\"x\"";
        let b = "2026-11-28T00:09:00.000001Z  WARN web: missing key=\"x\"";
        assert_eq!(log_message(a), "WARN web: missing key=\"x\"");
        assert_eq!(log_message(a), log_message(b));
        assert_eq!(log_message("Error: boom"), "Error: boom");
        let mut log = StderrLog::default();
        log.add(a.into());
        log.add(b.into());
        log.add("other".into());
        assert_eq!(log.lines, 3);
        assert!(log.summary(10).starts_with("         2× WARN"));
    }

    #[test]
    fn demo_password_format() {
        assert!(is_demo_password("abcde-FGHJK-23456-mnpqr"));
        assert!(!is_demo_password("abcde-FGHJK-23456"));
        assert!(!is_demo_password("abcd-FGHJK-23456-mnpqr"));
    }

    #[test]
    fn proc_self_status() {
        assert!(proc_status_num(std::process::id(), "VmRSS").is_some_and(|kb| kb > 0));
        assert!(proc_cpu_ticks("self").is_some());
    }
}
