//! The `stadtmauer` binary: the web server and the administration commands.

mod config;
mod feeds;
mod server;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use config::Config;
use indicatif::{ProgressBar, ProgressStyle};
use stadtmauer_core::credentials::{generate_password, generate_password_for, hash_password};
use stadtmauer_core::user::{MembershipInput, UserInput};
use stadtmauer_store::Store;
use std::io::{BufReader, BufWriter, IsTerminal};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "stadtmauer",
    version,
    about = "Informationssicherheit für Kommunen und ihre Verbünde"
)]
struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "STADTMAUER_CONFIG")]
    config: Option<PathBuf>,
    /// Database: sqlite://file or postgres://user@host/db (overrides config and environment).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (migrates the database first).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Use the demo database (stadtmauer-demo.sqlite3 unless --database-url is given) with the
        /// fictional Landkreis Musterau, and print a login.
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Load the demo data into the configured database.
    Demo,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Write a consistent backup of the whole installation to a file (works while the server runs).
    Backup { file: PathBuf },
    /// Restore a backup into the configured database (all or nothing).
    Restore {
        file: PathBuf,
        /// Replace existing data.
        #[arg(long)]
        force: bool,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Security catalogs: import an OSCAL 1.1 catalog, profile or mapping collection
    /// (`catalog import FILE`).
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Update feeds (end-of-life, CISA KEV, CSAF): list and import.
    Feeds {
        #[command(subcommand)]
        command: feeds::FeedsCommand,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import an OSCAL 1.1 catalog, profile or mapping collection (JSON) beside the shipped
    /// catalogs; answers to requirements whose text changed in a new version are flagged for
    /// review. A mapping collection must name at least one known requirement; it is shown on the
    /// requirement pages and is never a target.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. Prints the generated password once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Installation administrator (all Verbünde).
        #[arg(long)]
        admin: bool,
        /// Organisation id for the first role.
        #[arg(long)]
        organisation: Option<i64>,
        /// office_officer, coordinator, it_staff, reader or auditor.
        #[arg(long)]
        role: Option<String>,
        /// End of an auditor's access (YYYY-MM-DD).
        #[arg(long)]
        valid_until: Option<String>,
    },
    /// Set a new generated password (and unlock the account). Prints it once.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exits with 1 when any entry was edited or deleted.
    Verify {
        /// A head hash kept outside the database (from the log's "audit head" lines, a backup's
        /// header or an earlier verify): the chain must contain it, so that removing the newest
        /// entries together with rewinding the head is found too.
        #[arg(long, value_name = "HASH")]
        expect: Option<String>,
    },
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STADTMAUER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.database_url)
        .await
        .context("opening the database")
}

/// malloc arenas (glibc): one per core (two to eight) instead of glibc's eight per core, so memory
/// freed after an import is not stranded in arenas of idle threads. `MALLOC_ARENA_MAX` in the
/// environment takes precedence.
fn malloc_arenas() -> u16 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u16::try_from(cores.clamp(2, 8)).unwrap_or(8)
}

fn main() {
    // Before the runtime starts its threads.
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        stadtmauer_web::memory::limit_arenas(malloc_arenas());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Fehler / error: cannot start the runtime: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = runtime.block_on(run()) {
        eprintln!("Fehler / error: {e:#}");
        std::process::exit(2);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = &cli.database_url {
        config.database_url = url.clone();
    }
    init_logging(&config.log_format);
    match cli.command {
        Command::Serve { listen, demo } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            if demo
                && cli.database_url.is_none()
                && std::env::var("STADTMAUER_DATABASE_URL").is_err()
            {
                config.database_url = "sqlite://stadtmauer-demo.sqlite3".into();
            }
            serve(config, demo).await
        }
        Command::Migrate => {
            let store = open(&config).await?;
            store.migrate().await?;
            println!("Schema version {} (up to date).", store.known_version());
            Ok(())
        }
        Command::Demo => {
            let store = open(&config).await?;
            store.migrate().await?;
            load_demo(&store).await
        }
        Command::User { command } => {
            let store = open(&config).await?;
            store.check_schema().await?;
            user_command(&store, command).await
        }
        Command::Backup { file } => {
            let store = open(&config).await?;
            store.check_schema().await?;
            // Write to a temporary file and rename: a failed backup never leaves a half file
            // under the real name.
            let tmp = file.with_extension("partial");
            let out = std::fs::File::create(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            let pb = bar(0, "Backup");
            let mut w = BufWriter::new(out);
            let summary = store.backup(&mut w, |n| pb.set_position(n)).await?;
            let f = w
                .into_inner()
                .map_err(|e| anyhow::anyhow!("writing the backup failed: {e}"))?;
            f.sync_all()?;
            std::fs::rename(&tmp, &file)?;
            pb.finish_and_clear();
            println!(
                "Backup written: {} ({} rows, schema {}, sha256 {})",
                file.display(),
                summary.rows,
                summary.schema_version,
                summary.sha256
            );
            if let Some((seq, hash)) = &summary.audit_head {
                println!("Audit head in the backup: entry {seq}, hash {hash}");
            }
            Ok(())
        }
        Command::Restore { file, force } => restore(&config, &file, force).await,
        Command::Catalog {
            command: CatalogCommand::Import { file },
        } => {
            let store = open(&config).await?;
            store.check_schema().await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| "catalog.json".into());
            let scope = store.system_scope("cli").await?;
            // From the command line a file is the installation's: every Verbund sees it.
            let c = store
                .import_catalog(&scope, stadtmauer_core::Owner::Installation, &name, &bytes)
                .await
                .map_err(|e| anyhow::anyhow!("file refused, nothing was stored: {e}"))?;
            let follows = c
                .previous
                .as_deref()
                .map(|p| format!(", follows {p}"))
                .unwrap_or_default();
            if c.is_mapping() {
                println!(
                    "Imported mapping collection {:?} version {:?}: {} map(s){follows}.",
                    c.title, c.version, c.requirements,
                );
            } else {
                println!(
                    "Imported {} {:?} version {:?}: {} requirements{follows}; {} answer(s) flagged for review.",
                    c.kind, c.title, c.version, c.requirements, c.flagged
                );
            }
            Ok(())
        }
        Command::Feeds { command } => {
            let store = open(&config).await?;
            store.check_schema().await?;
            feeds::run(&store, command).await
        }
        Command::Audit {
            command: AuditCommand::Verify { expect },
        } => {
            if let Some(h) = &expect {
                let h = h.trim();
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    anyhow::bail!(
                        "--expect takes a head hash of 64 hexadecimal characters, as the log's \"audit head\" lines and a backup's header give it"
                    );
                }
            }
            let store = open(&config).await?;
            store.check_schema().await?;
            let total = store.audit_len().await?;
            let pb = bar(total.max(0) as u64, "Audit");
            let (checked, problems) = store
                .audit_verify_expecting(expect.as_deref(), |n| pb.set_position(n))
                .await?;
            pb.finish_and_clear();
            if problems.is_empty() {
                let (seq, hash) = store.audit_head().await?;
                println!("Audit log intact: {checked} entries, hash chain verified.");
                if expect.is_some() {
                    println!("The expected head is in the chain.");
                }
                println!(
                    "Head: entry {seq}, hash {hash} (keep it outside the installation; `audit verify --expect {hash}` later finds entries removed up to it)."
                );
                Ok(())
            } else {
                for p in &problems {
                    println!("TAMPERED: {p}");
                }
                println!(
                    "Audit log NOT intact: {} problem(s) in {checked} entries.",
                    problems.len()
                );
                std::process::exit(1);
            }
        }
    }
}

async fn user_command(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    let scope = store.system_scope("cli").await?;
    match command {
        UserCommand::Add {
            email,
            name,
            admin,
            organisation,
            role,
            valid_until,
        } => {
            let data = UserInput {
                email,
                display_name: name,
            }
            .validate()
            .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            // Generated to pass the password rule (`credentials::check_new_password`).
            let password = generate_password_for(&data.email);
            let hash = hash_password(&password)?;
            if admin {
                store
                    .create_admin(&scope, &data, &hash)
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            } else {
                let (Some(org), Some(role)) = (organisation, role) else {
                    bail!("a user needs --admin, or --organisation and --role");
                };
                let office = store.is_office(&scope, stadtmauer_core::OrgId(org)).await;
                let m = MembershipInput {
                    organisation_id: org.to_string(),
                    role,
                    valid_until,
                }
                .validate(|_| office, stadtmauer_core::now())
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
                store
                    .create_user(&scope, &data, &hash, &m)
                    .await
                    .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            }
            println!(
                "User {} created. Password (shown once): {password}",
                data.email
            );
            Ok(())
        }
        UserCommand::ResetPassword { email } => {
            // Generated to pass the password rule; the reset also revokes the user's API tokens.
            let password = generate_password_for(&email);
            let hash = hash_password(&password)?;
            if !store.reset_password_by_email(&scope, &email, &hash).await? {
                bail!("no user with e-mail address {email}");
            }
            println!("New password for {email} (shown once): {password}");
            Ok(())
        }
    }
}

/// Field errors in plain English for the console.
fn describe(e: &stadtmauer_core::DomainError) -> String {
    use stadtmauer_core::DomainError::*;
    match e {
        Invalid(f) | Conflict(f) => {
            f.0.iter()
                .map(|x| format!("{}: {}", x.field, x.message))
                .collect::<Vec<_>>()
                .join("; ")
        }
        other => other.to_string(),
    }
}

async fn load_demo(store: &Store) -> anyhow::Result<()> {
    let password = generate_password();
    let hash = hash_password(&password)?;
    let logins = if stadtmauer_demo::is_loaded(store).await? {
        // Already there: a fresh password for every demo user, so a login can be printed again.
        let scope = store.system_scope("Demo").await?;
        for e in stadtmauer_demo::demo_emails(store).await? {
            store.reset_password_by_email(&scope, &e, &hash).await?;
        }
        None
    } else {
        let pb = bar(18, "Demo");
        let logins = stadtmauer_demo::load(store, &hash, |step| {
            pb.set_message(step.to_string());
            pb.inc(1);
        })
        .await?;
        pb.set_length(18 + 15);
        stadtmauer_demo::load_inventory(store, |town| {
            pb.set_message(format!("Informationsverbund {town}"));
            pb.inc(1);
        })
        .await
        .map_err(|e| anyhow::anyhow!("demo inventory: {}", describe(&e)))?;
        pb.finish_and_clear();
        Some(logins)
    };
    println!();
    println!("  Demo: Landkreis Musterau (fiktiv / fictional)");
    println!("  Passwort für alle Demo-Benutzer / password of every demo user: {password}");
    match logins {
        Some(l) => {
            println!("  Informationssicherheitsbüro:  {}", l.office_officer);
            println!("  Koordination {}:  {}", l.town_name, l.town_coordinator);
            println!(
                "  Anderer Verbund (Beispielstein):  {}",
                l.other_verbund_officer
            );
            println!("  Plattform-Administration:  {}", l.admin);
        }
        None => {
            println!("  Informationssicherheitsbüro:  katrin.vogt@isb-musterau.example");
            println!(
                "  Koordination Stadt Falkenhorst an der Murne:  dirk.hollmann@falkenhorst.example"
            );
            println!("  Plattform-Administration:  admin@stadtmauer.example");
        }
    }
    println!();
    Ok(())
}

/// `restore`: the backup is checked before the database is even opened, and a SQLite file this
/// command created is removed again when the restore is refused, so a refusal leaves nothing
/// behind.
async fn restore(config: &Config, file: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let refused =
        |e: &dyn std::fmt::Display| anyhow::anyhow!("restore refused, nothing was changed: {e}");
    let f = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    stadtmauer_store::backup::parse_backup(BufReader::new(f)).map_err(|e| refused(&e))?;
    let created = sqlite_file(&config.database_url).filter(|p| !p.exists());
    let result = async {
        let store = open(config).await?;
        let done = async {
            store.migrate().await?;
            let f = std::fs::File::open(file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let pb = bar(0, "Restore");
            let summary = store
                .restore(BufReader::new(f), force, |n| pb.set_position(n))
                .await
                .map_err(|e| refused(&e))?;
            pb.finish_and_clear();
            anyhow::Ok(summary)
        }
        .await;
        store.close().await;
        done
    }
    .await;
    match result {
        Ok(summary) => {
            println!("Restored {} rows from {}.", summary.rows, file.display());
            Ok(())
        }
        Err(e) => {
            if let Some(p) = created {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut name = p.clone().into_os_string();
                    name.push(suffix);
                    let _ = std::fs::remove_file(PathBuf::from(name));
                }
            }
            Err(e)
        }
    }
}

/// The file of a `sqlite://` URL (`None` for PostgreSQL and in-memory databases).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    Some(PathBuf::from(path))
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let limits = config.limits()?;
    let store = open(&config).await?;
    store.migrate().await?;
    if demo {
        load_demo(&store).await?;
    }
    let state = stadtmauer_web::AppState::new(store.clone(), config.web());
    let app = stadtmauer_web::router(state);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    println!("Stadtmauer läuft auf / listens on http://{addr}/");
    tracing::info!(%addr, backend = ?store.backend(), ?limits, "listening");
    server::run(listener, app, limits, shutdown()).await?;
    store.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
