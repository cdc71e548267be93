//! `stadtmauer feeds …`: show the active update feeds and import newer ones from files.
//!
//! Offline first: `feeds import` reads the CISA KEV JSON, an endoflife.date checkout, a directory
//! of CSAF advisories or a mirrored CSAF provider tree (walked from its provider-metadata.json with
//! checksums and signatures verified). When the host has internet, `feeds update` fetches the
//! same over https (rustls) and imports each feed that is newer.

use crate::bar;
use anyhow::{bail, Context};
use clap::Subcommand;
use stadtmauer_lifecycle::provider::{self, Fetch, FetchError};
use stadtmauer_store::updates::{FeedImportError, FeedUpload};
use stadtmauer_store::Store;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum FeedsCommand {
    /// List the active feeds: source, date of the data, entries, last import.
    List,
    /// Import a newer feed; refused (and the previous one kept) when it is older or broken.
    Import {
        /// CISA KEV catalog (known_exploited_vulnerabilities.json).
        #[arg(long, conflicts_with_all = ["eol", "csaf"])]
        kev: Option<PathBuf>,
        /// endoflife.date product files (a directory of *.md, e.g. products/ of a checkout).
        #[arg(long, conflicts_with_all = ["kev", "csaf"])]
        eol: Option<PathBuf>,
        /// Date of the endoflife.date data (YYYY-MM-DD; default today).
        #[arg(long, requires = "eol")]
        date: Option<String>,
        /// CSAF advisories: a directory (searched recursively for *.json) or a provider's
        /// provider-metadata.json in a mirrored provider tree.
        #[arg(long, conflicts_with_all = ["kev", "eol"])]
        csaf: Option<PathBuf>,
    },
    /// Fetch the feeds over the internet (https only) and import each one that is newer: the
    /// CISA KEV catalog, the endoflife.date data (a tarball of its repository; products/*.md are
    /// read) and the CSAF providers named (walked from their provider-metadata.json, checksums and
    /// signatures verified). A feed that fails or is not newer is reported; the others go on.
    Update {
        #[arg(long, default_value = KEV_URL)]
        kev_url: String,
        #[arg(long, default_value = EOL_URL)]
        eol_url: String,
        /// provider-metadata.json URL of a CSAF provider (repeatable).
        #[arg(long = "csaf-provider")]
        csaf_providers: Vec<String>,
        /// Do not fetch the KEV catalog.
        #[arg(long)]
        skip_kev: bool,
        /// Do not fetch the endoflife.date data.
        #[arg(long)]
        skip_eol: bool,
        /// An extra trusted root certificate (PEM), for a provider behind its own PKI.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
}

const KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
const EOL_URL: &str =
    "https://github.com/endoflife-date/endoflife.date/archive/refs/heads/master.tar.gz";
/// Largest download accepted for one feed (the KEV catalog is ~1.5 MB, the endoflife.date
/// tarball ~15 MB).
const MAX_DOWNLOAD: usize = 64 << 20;

/// Fetches over https with rustls (webpki roots, plus an optional extra root).
struct HttpFetch {
    client: reqwest::blocking::Client,
}

impl HttpFetch {
    fn new(ca: Option<&Path>) -> anyhow::Result<HttpFetch> {
        let mut b = reqwest::blocking::Client::builder()
            .https_only(true)
            .timeout(std::time::Duration::from_secs(60))
            .user_agent(concat!("stadtmauer/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
            b = b.add_root_certificate(
                reqwest::Certificate::from_pem(&pem)
                    .with_context(|| format!("{} is not a PEM certificate", ca.display()))?,
            );
        }
        Ok(HttpFetch { client: b.build()? })
    }
}

impl Fetch for HttpFetch {
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.get_limited(url, MAX_DOWNLOAD)
    }
    fn get_limited(&self, url: &str, max: usize) -> Result<Vec<u8>, FetchError> {
        let failed = |message: String| FetchError::Failed {
            url: url.to_owned(),
            message,
        };
        let resp = self
            .client
            .get(url)
            .send()
            .map_err(|e| failed(e.to_string()))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(FetchError::NotFound {
                url: url.to_owned(),
            });
        }
        if !resp.status().is_success() {
            return Err(failed(format!("HTTP {}", resp.status())));
        }
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                max,
            });
        }
        let mut out = Vec::new();
        use std::io::Read;
        resp.take(max as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| failed(e.to_string()))?;
        if out.len() > max {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                max,
            });
        }
        Ok(out)
    }
}

/// The products/*.md files of an endoflife.date repository tarball.
fn eol_files_from_tarball(bytes: &[u8]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut out = Vec::new();
    for entry in archive.entries().context("not a .tar.gz archive")? {
        let mut entry = entry.context("damaged .tar.gz archive")?;
        let path = entry
            .path()
            .context("damaged .tar.gz archive")?
            .into_owned();
        let mut parts = path.components().rev();
        let (Some(file), Some(dir)) = (parts.next(), parts.next()) else {
            continue;
        };
        let file = file.as_os_str().to_string_lossy().into_owned();
        if dir.as_os_str() == "products" && file.ends_with(".md") {
            let mut text = Vec::new();
            use std::io::Read;
            entry
                .by_ref()
                .take(MAX_DOWNLOAD as u64)
                .read_to_end(&mut text)
                .context("damaged .tar.gz archive")?;
            out.push((file, text));
        }
    }
    if out.is_empty() {
        bail!("the archive holds no products/*.md files");
    }
    out.sort();
    Ok(out)
}

async fn import(store: &Store, source: &str, upload: FeedUpload) -> anyhow::Result<()> {
    let scope = store.system_scope("cli").await?;
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message("Importieren und neu abgleichen …");
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = store.import_feed(&scope, source, upload).await;
    pb.finish_and_clear();
    match result {
        Ok(o) => {
            println!(
                "Imported {source}: {} products changed, {} installations re-matched, {} new and {} resolved findings.",
                o.changed_products, o.touched_installations, o.new_findings, o.resolved_findings
            );
            Ok(())
        }
        Err(FeedImportError::Feed(m)) => {
            bail!("feed refused, the previous one stays active: {m}")
        }
        Err(FeedImportError::Domain(stadtmauer_core::DomainError::Invalid(f))) => {
            // Field messages are i18n keys; the console speaks English.
            let en = stadtmauer_web::i18n::Tr {
                lang: stadtmauer_web::i18n::Lang::En,
            };
            let why: Vec<&str> = f.0.iter().map(|x| en.s(x.message)).collect();
            bail!(
                "feed refused, the previous one stays active: {}",
                why.join(" ")
            )
        }
        Err(FeedImportError::Domain(e)) => Err(e.into()),
    }
}

/// Fetches the feeds of `feeds update`, each with a progress line; blocking, so it runs on a
/// blocking thread.
fn fetch_all(
    kev: Option<String>,
    eol: Option<String>,
    providers: Vec<String>,
    ca: Option<PathBuf>,
) -> anyhow::Result<Vec<anyhow::Result<(String, FeedUpload)>>> {
    let fetch = HttpFetch::new(ca.as_deref())?;
    let pb = bar(
        (usize::from(kev.is_some()) + usize::from(eol.is_some()) + providers.len()) as u64,
        "Feeds laden",
    );
    let mut out = Vec::new();
    if let Some(url) = kev {
        out.push(
            fetch
                .get(&url)
                .map(|b| (url.clone(), FeedUpload::Kev(b)))
                .map_err(|e| anyhow::anyhow!("KEV: {e}")),
        );
        pb.inc(1);
    }
    if let Some(url) = eol {
        out.push(
            fetch
                .get(&url)
                .map_err(|e| anyhow::anyhow!("endoflife.date: {e}"))
                .and_then(|b| eol_files_from_tarball(&b))
                .map(|files| {
                    (
                        url.clone(),
                        FeedUpload::Eol {
                            snapshot: None,
                            files,
                        },
                    )
                }),
        );
        pb.inc(1);
    }
    for url in providers {
        let walked = provider::walk(&fetch, &url, &provider::Limits::default())
            .map_err(|e| anyhow::anyhow!("CSAF provider {url}: {e}"))
            .and_then(|w| {
                for r in &w.rejected {
                    eprintln!("rejected: {r}");
                }
                for p in &w.problems {
                    eprintln!("skipped: {p}");
                }
                if w.documents.is_empty() {
                    bail!("CSAF provider {url}: no advisory passed the checks");
                }
                Ok((
                    url.clone(),
                    FeedUpload::Csaf(w.documents.into_iter().map(|d| (d.url, d.bytes)).collect()),
                ))
            });
        out.push(walked);
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(out)
}

fn files_with(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let p = e?.path();
        if p.is_dir() {
            files_with(&p, ext, out)?;
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
    out.sort();
    Ok(())
}

fn read_all(paths: &[PathBuf], base: &Path, what: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let pb = bar(paths.len() as u64, what);
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let name = p.strip_prefix(base).unwrap_or(p).display().to_string();
        out.push((
            name,
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        ));
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(out)
}

pub async fn run(store: &Store, command: FeedsCommand) -> anyhow::Result<()> {
    let scope = store.system_scope("cli").await?;
    match command {
        FeedsCommand::Update {
            kev_url,
            eol_url,
            csaf_providers,
            skip_kev,
            skip_eol,
            ca,
        } => {
            let kev = (!skip_kev).then_some(kev_url);
            let eol = (!skip_eol).then_some(eol_url);
            let fetched =
                tokio::task::spawn_blocking(move || fetch_all(kev, eol, csaf_providers, ca))
                    .await??;
            let mut failed = 0;
            for f in fetched {
                let done = match f {
                    Ok((source, upload)) => import(store, &source, upload).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = done {
                    failed += 1;
                    eprintln!("{e:#}");
                }
            }
            if failed > 0 {
                bail!("{failed} feed(s) not updated; the previous ones stay active");
            }
            Ok(())
        }
        FeedsCommand::List => {
            for f in store.feed_infos(&scope).await? {
                println!(
                    "{:<5} {:<12} {:>6} {:>6}  {}",
                    f.kind, f.snapshot, f.count, f.detail_count, f.source
                );
            }
            Ok(())
        }
        FeedsCommand::Import {
            kev,
            eol,
            date,
            csaf,
        } => {
            let (source, upload) = if let Some(p) = kev {
                let b =
                    std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
                if b.is_empty() {
                    bail!(
                        "{} is empty; expected the CISA KEV catalog (known_exploited_vulnerabilities.json)",
                        p.display()
                    );
                }
                (p.display().to_string(), FeedUpload::Kev(b))
            } else if let Some(dir) = eol {
                let mut paths = Vec::new();
                files_with(&dir, "md", &mut paths)?;
                if paths.is_empty() {
                    bail!(
                        "no endoflife.date product files (*.md, as in the products/ folder of \
                         endoflife-date/endoflife.date) found in {}",
                        dir.display()
                    );
                }
                let snapshot = match date {
                    Some(d) => Some(
                        stadtmauer_store::updates::parse_date(&d)
                            .with_context(|| format!("not a date (YYYY-MM-DD): {d}"))?,
                    ),
                    None => None,
                };
                let files = read_all(&paths, &dir, "endoflife.date")?;
                (
                    dir.display().to_string(),
                    FeedUpload::Eol { snapshot, files },
                )
            } else if let Some(p) = csaf {
                if p.is_file() {
                    let (source, files) = walk_mirror(&p)?;
                    (source, FeedUpload::Csaf(files))
                } else {
                    let mut paths = Vec::new();
                    files_with(&p, "json", &mut paths)?;
                    if paths.is_empty() {
                        bail!(
                            "no CSAF advisories (*.json) found in {}; give a directory of \
                             advisories or a provider-metadata.json",
                            p.display()
                        );
                    }
                    let files = read_all(&paths, &p, "CSAF")?;
                    (p.display().to_string(), FeedUpload::Csaf(files))
                }
            } else {
                bail!("give one of --kev FILE, --eol DIR or --csaf DIR|provider-metadata.json");
            };
            import(store, &source, upload).await
        }
    }
}

/// A file's name (or URL) and content.
type NamedBytes = (String, Vec<u8>);

/// A provider tree mirrored to disk: the provider's https URLs under the directory of its
/// `canonical_url` map to the same paths under the mirror's directory.
struct MirrorFetch {
    url_base: String,
    dir: PathBuf,
}

impl Fetch for MirrorFetch {
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let not_found = || FetchError::NotFound {
            url: url.to_owned(),
        };
        let rel = url.strip_prefix(&self.url_base).ok_or_else(not_found)?;
        // The walk refuses `..` in listings; refuse it here too so no file outside the mirror
        // is ever read.
        if rel.split('/').any(|seg| seg == ".." || seg.is_empty()) {
            return Err(not_found());
        }
        std::fs::read(self.dir.join(rel)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => not_found(),
            _ => FetchError::Failed {
                url: url.to_owned(),
                message: e.to_string(),
            },
        })
    }
}

/// Walks a mirrored CSAF provider from its provider-metadata.json: ROLIE feeds or directory
/// listings, checksums and OpenPGP signatures verified where present. Advisories that fail a
/// check are reported and left out; the rest are imported.
fn walk_mirror(metadata: &Path) -> anyhow::Result<(String, Vec<NamedBytes>)> {
    let bytes =
        std::fs::read(metadata).with_context(|| format!("cannot read {}", metadata.display()))?;
    let meta: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", metadata.display()))?;
    let canonical = meta
        .get("canonical_url")
        .and_then(serde_json::Value::as_str)
        .context("provider-metadata.json has no canonical_url")?
        .to_owned();
    let url_base = match canonical.rfind('/') {
        Some(i) => canonical[..=i].to_owned(),
        None => bail!("canonical_url is not a URL: {canonical}"),
    };
    let fetch = MirrorFetch {
        url_base,
        dir: metadata.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message("CSAF-Provider durchlaufen, Prüfsummen und Signaturen prüfen …");
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    let walk = provider::walk(&fetch, &canonical, &provider::Limits::default());
    pb.finish_and_clear();
    let walk = walk.map_err(|e| anyhow::anyhow!("provider refused: {e}"))?;
    for r in &walk.rejected {
        eprintln!("rejected: {r}");
    }
    for p in &walk.problems {
        eprintln!("skipped: {p}");
    }
    let signed = walk
        .documents
        .iter()
        .filter(|d| d.signed_by.is_some())
        .count();
    let summed = walk
        .documents
        .iter()
        .filter(|d| d.checksum.is_some())
        .count();
    println!(
        "{} advisories fetched ({} with a verified signature, {} with a verified checksum), {} rejected{}.",
        walk.documents.len(),
        signed,
        summed,
        walk.rejected.len(),
        if walk.truncated { ", more left for the next import" } else { "" }
    );
    if walk.documents.is_empty() {
        bail!("no advisory passed the checks; nothing imported");
    }
    Ok((
        canonical,
        walk.documents
            .into_iter()
            .map(|d| (d.url, d.bytes))
            .collect(),
    ))
}
