//! Walking a CSAF 2.0 provider (spec section 7.1): its `provider-metadata.json`, the ROLIE feeds
//! and directory distributions (`index.txt`, else `changes.csv`) it names, and for every advisory
//! the `.sha256`/`.sha512` checksum and the OpenPGP `.asc` detached signature when present.
//!
//! No network here: every byte comes through [`Fetch`], which the caller implements over HTTP or
//! the file system. The walk is bounded (documents, bytes per document and per listing) and
//! stays on the provider's own origin plus the origins of URLs the metadata itself lists (a
//! key server, a CDN for the feeds). An advisory whose checksum or signature does not verify is
//! rejected with the URL and the reason; the rest of the walk goes on.

use crate::csaf::Publisher;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use std::collections::BTreeSet;

/// Why a URL could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum FetchError {
    /// The resource does not exist (HTTP 404, no such file). Optional files (`.sha256`,
    /// `.asc` of a directory distribution) that answer this are taken as absent.
    #[error("{url}: not found")]
    NotFound { url: String },
    #[error("{url}: larger than {max} bytes")]
    TooLarge { url: String, max: usize },
    /// Anything else (connection, TLS, HTTP status, I/O); `message` is for the log.
    #[error("{url}: {message}")]
    Failed { url: String, message: String },
}

/// Where the walk gets its bytes from.
pub trait Fetch {
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError>;

    /// `get`, refusing more than `max` bytes. Override to stop reading early (HTTP).
    fn get_limited(&self, url: &str, max: usize) -> Result<Vec<u8>, FetchError> {
        let b = self.get(url)?;
        if b.len() > max {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                max,
            });
        }
        Ok(b)
    }
}

/// `provider-metadata.json` (CSAF 2.0 section 7.1.20), the parts the walk uses.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ProviderMetadata {
    pub canonical_url: String,
    #[serde(default)]
    pub distributions: Vec<Distribution>,
    pub last_updated: String,
    pub metadata_version: String,
    pub publisher: ProviderPublisher,
    pub role: String,
    #[serde(default)]
    pub public_openpgp_keys: Vec<OpenPgpKeyRef>,
    #[serde(rename = "list_on_CSAF_aggregators")]
    pub list_on_csaf_aggregators: bool,
    #[serde(rename = "mirror_on_CSAF_aggregators")]
    pub mirror_on_csaf_aggregators: bool,
}

/// The publisher block (same shape as a CSAF document's).
pub type ProviderPublisher = Publisher;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Distribution {
    #[serde(default)]
    pub directory_url: Option<String>,
    #[serde(default)]
    pub rolie: Option<RolieDistribution>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RolieDistribution {
    pub feeds: Vec<RolieFeedRef>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RolieFeedRef {
    #[serde(default)]
    pub summary: Option<String>,
    pub tlp_label: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OpenPgpKeyRef {
    #[serde(default)]
    pub fingerprint: Option<String>,
    pub url: String,
}

/// A ROLIE feed document (`{"feed": {...}}`), the parts the walk uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RolieFeedDoc {
    pub feed: RolieFeed,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RolieFeed {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub link: Vec<Link>,
    pub updated: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Entry {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub link: Vec<Link>,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub updated: Option<String>,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Link {
    pub rel: String,
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Content {
    #[serde(default, rename = "type")]
    pub media_type: Option<String>,
    pub src: String,
}

/// Why a metadata document, feed or listing was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum ProviderError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: at JSON path {path}: {message} (line {line}, column {column})")]
    Json {
        url: String,
        path: String,
        message: String,
        line: usize,
        column: usize,
    },
    #[error("{url}: metadata_version is {found:?}, only \"2.0\" is supported")]
    MetadataVersion { url: String, found: String },
    #[error("{url}: not an absolute https URL")]
    NotHttps { url: String },
    #[error("{url}: outside the provider's origin and not listed in its metadata")]
    OutsideOrigin { url: String },
    #[error("{url}: line {line}: {message}")]
    Listing {
        url: String,
        line: usize,
        message: String,
    },
    #[error("{url}: OpenPGP key: {message}")]
    Key { url: String, message: String },
    #[error("{url}: key fingerprint is {found}, the metadata names {expected}")]
    Fingerprint {
        url: String,
        expected: String,
        found: String,
    },
}

/// Why one advisory was not accepted. Every variant names the URL it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Rejection {
    #[error("advisory {url}: {source}")]
    Fetch { url: String, source: FetchError },
    #[error("advisory {url}: not an absolute https URL")]
    NotHttps { url: String },
    #[error("advisory {url}: outside the provider's origin and not listed in its metadata")]
    OutsideOrigin { url: String },
    #[error("advisory {url}: {algorithm} is {actual}, but {checksum_url} says {expected}")]
    Checksum {
        url: String,
        checksum_url: String,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },
    #[error("advisory {url}: checksum file {checksum_url}: {message}")]
    ChecksumFile {
        url: String,
        checksum_url: String,
        message: String,
    },
    #[error("advisory {url}: signature {signature_url}: {message}")]
    Signature {
        url: String,
        signature_url: String,
        message: String,
    },
}

/// An advisory that passed every check it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub url: String,
    pub bytes: Vec<u8>,
    /// `sha256`/`sha512` if a checksum file was present and matched.
    pub checksum: Option<&'static str>,
    /// Fingerprint (upper-case hex) of the provider key whose signature verified, if signed.
    pub signed_by: Option<String>,
}

/// The walk's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Advisories fetched at most (accepted plus rejected); the rest are left for the next walk.
    pub max_documents: usize,
    /// Bytes per advisory (the CSAF parser's own limit by default).
    pub max_document_bytes: usize,
    /// Bytes per metadata document, feed, `index.txt` or `changes.csv`.
    pub max_listing_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_documents: 10_000,
            max_document_bytes: crate::csaf::MAX_SIZE,
            max_listing_bytes: 32 << 20,
        }
    }
}

/// What a walk found.
#[derive(Debug, Clone)]
pub struct Walk {
    pub metadata: ProviderMetadata,
    pub documents: Vec<Fetched>,
    pub rejected: Vec<Rejection>,
    /// Feeds, listings and keys that could not be used; the walk went on without them.
    pub problems: Vec<ProviderError>,
    /// Fingerprints of the keys that loaded and matched the metadata.
    pub keys: Vec<String>,
    /// True when `max_documents` stopped the walk before every listed advisory was fetched.
    pub truncated: bool,
}

/// Checksum and signature files are a line; more than this is not one.
const MAX_SIDE_FILE: usize = 64 << 10;

fn json<T: serde::de::DeserializeOwned>(url: &str, bytes: &[u8]) -> Result<T, ProviderError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ProviderError::Json {
            url: url.to_owned(),
            path,
            line: inner.line(),
            column: inner.column(),
            message: inner.to_string(),
        }
    })
}

/// Parse `provider-metadata.json`; `url` only names it in errors.
pub fn parse_metadata(url: &str, bytes: &[u8]) -> Result<ProviderMetadata, ProviderError> {
    let m: ProviderMetadata = json(url, bytes)?;
    if m.metadata_version != "2.0" {
        return Err(ProviderError::MetadataVersion {
            url: url.to_owned(),
            found: m.metadata_version,
        });
    }
    Ok(m)
}

/// Parse a ROLIE feed document; `url` only names it in errors.
pub fn parse_rolie_feed(url: &str, bytes: &[u8]) -> Result<RolieFeed, ProviderError> {
    json::<RolieFeedDoc>(url, bytes).map(|d| d.feed)
}

/// A path of `index.txt` or `changes.csv`, relative to the directory URL: no absolute paths,
/// no `..`, no scheme, no backslashes, no empty segments.
fn relative_path(p: &str) -> Result<&str, String> {
    let ok = !p.is_empty()
        && !p.starts_with('/')
        && !p.contains(['\\', ':', '?', '#'])
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
        && p.chars().all(|c| !c.is_control() && c != ' ');
    if ok {
        Ok(p)
    } else {
        Err(format!("{p:?} is not a plain relative path"))
    }
}

/// Parse `index.txt` (7.1.13): one relative path per line, blank lines ignored.
pub fn parse_index(url: &str, text: &str) -> Result<Vec<String>, ProviderError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let p = relative_path(l).map_err(|message| ProviderError::Listing {
            url: url.to_owned(),
            line: i + 1,
            message,
        })?;
        out.push(p.to_owned());
    }
    Ok(out)
}

/// Parse `changes.csv` (7.1.14): `"path","timestamp"` per line, newest first.
pub fn parse_changes(url: &str, text: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let err = |message: String| ProviderError::Listing {
            url: url.to_owned(),
            line: i + 1,
            message,
        };
        let field = |s: &str| -> Result<String, String> {
            let s = s.trim();
            match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(inner) if !inner.contains('"') => Ok(inner.to_owned()),
                Some(_) => Err(format!("quote inside field {s:?}")),
                None if !s.contains('"') => Ok(s.to_owned()),
                None => Err(format!("unbalanced quotes in {s:?}")),
            }
        };
        let (a, b) = l
            .split_once(',')
            .ok_or_else(|| err("expected two fields \"path\",\"timestamp\"".into()))?;
        let path = field(a).map_err(err)?;
        let when = field(b).map_err(err)?;
        relative_path(&path).map_err(err)?;
        out.push((path, when));
    }
    Ok(out)
}

/// `https://host[:port]` of an absolute https URL, lowercased; `None` for anything else.
pub fn origin(url: &str) -> Option<String> {
    let rest = url
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &url[8..])?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    // Userinfo would let "https://provider@evil/" pass for the provider.
    if host.is_empty() || host.contains('@') || host.contains('\\') {
        return None;
    }
    Some(format!("https://{}", host.to_ascii_lowercase()))
}

/// The origins the walk may fetch from: the metadata's own and those of every URL it lists.
struct Origins(BTreeSet<String>);

impl Origins {
    fn check(&self, url: &str) -> Result<(), ProviderError> {
        match origin(url) {
            None => Err(ProviderError::NotHttps {
                url: url.to_owned(),
            }),
            Some(o) if self.0.contains(&o) => Ok(()),
            Some(_) => Err(ProviderError::OutsideOrigin {
                url: url.to_owned(),
            }),
        }
    }
}

fn hex_fingerprint(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

fn load_key(
    fetch: &dyn Fetch,
    k: &OpenPgpKeyRef,
    limits: &Limits,
) -> Result<(String, pgp::composed::SignedPublicKey), ProviderError> {
    use pgp::composed::{Deserializable, SignedPublicKey};
    use pgp::types::KeyDetails;
    let key_err = |message: String| ProviderError::Key {
        url: k.url.clone(),
        message,
    };
    let Some(expected) = k.fingerprint.as_deref().map(hex_fingerprint) else {
        return Err(key_err(
            "the metadata gives no fingerprint for this key".into(),
        ));
    };
    let bytes = fetch.get_limited(&k.url, limits.max_listing_bytes)?;
    let key = match SignedPublicKey::from_armor_single(bytes.as_slice()) {
        Ok((key, _)) => key,
        Err(_) => SignedPublicKey::from_bytes(bytes.as_slice())
            .map_err(|e| key_err(format!("neither an armored nor a binary public key: {e}")))?,
    };
    key.verify_bindings()
        .map_err(|e| key_err(format!("self-signatures do not verify: {e}")))?;
    let found = format!("{:X}", key.fingerprint());
    if found != expected {
        return Err(ProviderError::Fingerprint {
            url: k.url.clone(),
            expected,
            found,
        });
    }
    Ok((found, key))
}

/// Where an advisory came from, with the side files its listing names.
struct Candidate {
    url: String,
    /// ROLIE names its hash and signature links; a directory distribution has them by convention.
    hashes: Vec<String>,
    signature: Option<String>,
    /// Side files named by a ROLIE entry must exist; a directory's are probed.
    listed: bool,
}

fn sha_of(url: &str) -> Option<&'static str> {
    if url.ends_with(".sha512") {
        Some("sha512")
    } else if url.ends_with(".sha256") {
        Some("sha256")
    } else {
        None
    }
}

/// Fetch a side file: `Ok(None)` when a probed (not listed) file is absent.
fn side(fetch: &dyn Fetch, url: &str, listed: bool) -> Result<Option<Vec<u8>>, FetchError> {
    match fetch.get_limited(url, MAX_SIDE_FILE) {
        Ok(b) => Ok(Some(b)),
        Err(FetchError::NotFound { .. }) if !listed => Ok(None),
        Err(e) => Err(e),
    }
}

fn verify_checksum(
    doc_url: &str,
    sum_url: &str,
    algorithm: &'static str,
    file: &[u8],
    bytes: &[u8],
) -> Result<(), Rejection> {
    let text = std::str::from_utf8(file).map_err(|_| Rejection::ChecksumFile {
        url: doc_url.to_owned(),
        checksum_url: sum_url.to_owned(),
        message: "not UTF-8 text".into(),
    })?;
    // `sha256sum` output: the hash, blanks, the file name (optional here).
    let expected = text
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let want_len = if algorithm == "sha512" { 128 } else { 64 };
    if expected.len() != want_len || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Rejection::ChecksumFile {
            url: doc_url.to_owned(),
            checksum_url: sum_url.to_owned(),
            message: format!("does not start with a {algorithm} hex digest"),
        });
    }
    let actual = if algorithm == "sha512" {
        hex::encode(Sha512::digest(bytes))
    } else {
        hex::encode(Sha256::digest(bytes))
    };
    if actual != expected {
        return Err(Rejection::Checksum {
            url: doc_url.to_owned(),
            checksum_url: sum_url.to_owned(),
            algorithm,
            expected,
            actual,
        });
    }
    Ok(())
}

fn verify_signature(
    doc_url: &str,
    sig_url: &str,
    sig: &[u8],
    bytes: &[u8],
    keys: &[(String, pgp::composed::SignedPublicKey)],
) -> Result<String, Rejection> {
    use pgp::composed::{Deserializable, DetachedSignature};
    let reject = |message: String| Rejection::Signature {
        url: doc_url.to_owned(),
        signature_url: sig_url.to_owned(),
        message,
    };
    let sig = match DetachedSignature::from_armor_single(sig) {
        Ok((s, _)) => s,
        Err(_) => DetachedSignature::from_bytes(sig)
            .map_err(|e| reject(format!("not an OpenPGP signature: {e}")))?,
    };
    if keys.is_empty() {
        return Err(reject(
            "signed, but no provider key could be loaded to check it".into(),
        ));
    }
    for (fp, key) in keys {
        if sig.verify(key, bytes).is_ok() {
            return Ok(fp.clone());
        }
        for sub in &key.public_subkeys {
            if sub.verify_bindings(&key.primary_key).is_ok() && sig.verify(sub, bytes).is_ok() {
                return Ok(fp.clone());
            }
        }
    }
    Err(reject(
        "does not verify with any of the provider's keys".into(),
    ))
}

/// Walk a provider: fetch `metadata_url`, its keys, feeds and directory listings, then every
/// advisory with its checksum and signature. Fails only when the metadata itself cannot be had.
pub fn walk(fetch: &dyn Fetch, metadata_url: &str, limits: &Limits) -> Result<Walk, ProviderError> {
    let own = origin(metadata_url).ok_or_else(|| ProviderError::NotHttps {
        url: metadata_url.to_owned(),
    })?;
    let bytes = fetch.get_limited(metadata_url, limits.max_listing_bytes)?;
    let metadata = parse_metadata(metadata_url, &bytes)?;

    let mut allowed = BTreeSet::from([own]);
    let listed_urls = metadata
        .distributions
        .iter()
        .flat_map(|d| {
            d.directory_url.iter().chain(d.rolie.iter().flat_map(|r| {
                r.feeds
                    .iter()
                    .map(|f| &f.url)
                    .chain(&r.categories)
                    .chain(&r.services)
            }))
        })
        .chain(metadata.public_openpgp_keys.iter().map(|k| &k.url));
    allowed.extend(listed_urls.filter_map(|u| origin(u)));
    let origins = Origins(allowed);

    let mut w = Walk {
        metadata: metadata.clone(),
        documents: Vec::new(),
        rejected: Vec::new(),
        problems: Vec::new(),
        keys: Vec::new(),
        truncated: false,
    };
    let mut keys = Vec::new();
    for k in &metadata.public_openpgp_keys {
        match origins
            .check(&k.url)
            .and_then(|()| load_key(fetch, k, limits))
        {
            Ok((fp, key)) => {
                w.keys.push(fp.clone());
                keys.push((fp, key));
            }
            Err(e) => w.problems.push(e),
        }
    }

    // Collect candidates first (deduplicated by URL), then fetch up to the limit.
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for d in &metadata.distributions {
        for f in d.rolie.iter().flat_map(|r| &r.feeds) {
            match rolie_candidates(fetch, &origins, &f.url, limits) {
                Ok(cs) => candidates.extend(cs.into_iter().filter(|c| seen.insert(c.url.clone()))),
                Err(e) => w.problems.push(e),
            }
        }
        if let Some(dir) = &d.directory_url {
            match directory_candidates(fetch, &origins, dir, limits) {
                Ok(cs) => candidates.extend(cs.into_iter().filter(|c| seen.insert(c.url.clone()))),
                Err(e) => w.problems.push(e),
            }
        }
    }
    if candidates.len() > limits.max_documents {
        w.truncated = true;
        candidates.truncate(limits.max_documents);
    }
    for c in candidates {
        match advisory(fetch, &origins, &c, &keys, limits) {
            Ok(f) => w.documents.push(f),
            Err(r) => w.rejected.push(r),
        }
    }
    Ok(w)
}

fn rolie_candidates(
    fetch: &dyn Fetch,
    origins: &Origins,
    url: &str,
    limits: &Limits,
) -> Result<Vec<Candidate>, ProviderError> {
    origins.check(url)?;
    let bytes = fetch.get_limited(url, limits.max_listing_bytes)?;
    let feed = parse_rolie_feed(url, &bytes)?;
    Ok(feed
        .entry
        .into_iter()
        .map(|e| {
            let hashes = e
                .link
                .iter()
                .filter(|l| l.rel == "hash" && sha_of(&l.href).is_some())
                .map(|l| l.href.clone())
                .collect();
            let signature = e
                .link
                .iter()
                .find(|l| l.rel == "signature")
                .map(|l| l.href.clone());
            Candidate {
                url: e.content.src,
                hashes,
                signature,
                listed: true,
            }
        })
        .collect())
}

fn directory_candidates(
    fetch: &dyn Fetch,
    origins: &Origins,
    dir: &str,
    limits: &Limits,
) -> Result<Vec<Candidate>, ProviderError> {
    origins.check(dir)?;
    let base = dir.trim_end_matches('/');
    let index_url = format!("{base}/index.txt");
    let paths = match fetch.get_limited(&index_url, limits.max_listing_bytes) {
        Ok(b) => parse_index(&index_url, &String::from_utf8_lossy(&b))?,
        Err(FetchError::NotFound { .. }) => {
            let changes_url = format!("{base}/changes.csv");
            let b = fetch.get_limited(&changes_url, limits.max_listing_bytes)?;
            parse_changes(&changes_url, &String::from_utf8_lossy(&b))?
                .into_iter()
                .map(|(p, _)| p)
                .collect()
        }
        Err(e) => return Err(e.into()),
    };
    Ok(paths
        .into_iter()
        .map(|p| {
            let url = format!("{base}/{p}");
            Candidate {
                hashes: vec![format!("{url}.sha256"), format!("{url}.sha512")],
                signature: Some(format!("{url}.asc")),
                url,
                listed: false,
            }
        })
        .collect())
}

fn advisory(
    fetch: &dyn Fetch,
    origins: &Origins,
    c: &Candidate,
    keys: &[(String, pgp::composed::SignedPublicKey)],
    limits: &Limits,
) -> Result<Fetched, Rejection> {
    let url = c.url.as_str();
    let on_origin = |u: &str| match origins.check(u) {
        Ok(()) => Ok(()),
        Err(ProviderError::OutsideOrigin { .. }) => {
            Err(Rejection::OutsideOrigin { url: u.to_owned() })
        }
        Err(_) => Err(Rejection::NotHttps { url: u.to_owned() }),
    };
    on_origin(url)?;
    let fetch_err = |source: FetchError| Rejection::Fetch {
        url: url.to_owned(),
        source,
    };
    let bytes = fetch
        .get_limited(url, limits.max_document_bytes)
        .map_err(fetch_err)?;
    let mut checksum = None;
    for h in &c.hashes {
        on_origin(h)?;
        let Some(algorithm) = sha_of(h) else { continue };
        if let Some(file) = side(fetch, h, c.listed).map_err(fetch_err)? {
            verify_checksum(url, h, algorithm, &file, &bytes)?;
            // Report the stronger one when both are present.
            if checksum != Some("sha512") {
                checksum = Some(algorithm);
            }
        }
    }
    let mut signed_by = None;
    if let Some(s) = &c.signature {
        on_origin(s)?;
        if let Some(sig) = side(fetch, s, c.listed).map_err(fetch_err)? {
            signed_by = Some(verify_signature(url, s, &sig, &bytes, keys)?);
        }
    }
    Ok(Fetched {
        url: c.url.clone(),
        bytes,
        checksum,
        signed_by,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use pgp::composed::{
        ArmorOptions, DetachedSignature, KeyType, SecretKeyParamsBuilder, SignedPublicKey,
        SignedSecretKey, SubkeyParamsBuilder,
    };
    use pgp::crypto::hash::HashAlgorithm;
    use pgp::types::{KeyDetails, Password};
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use std::path::{Path, PathBuf};

    /// `https://host/path` → `<root>/host/path`.
    struct Dir(PathBuf);
    impl Fetch for Dir {
        fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
            let rest = url
                .strip_prefix("https://")
                .ok_or_else(|| FetchError::Failed {
                    url: url.into(),
                    message: "only https in this test".into(),
                })?;
            std::fs::read(self.0.join(rest)).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => FetchError::NotFound { url: url.into() },
                _ => FetchError::Failed {
                    url: url.into(),
                    message: e.to_string(),
                },
            })
        }
    }

    fn put(root: &Path, url: &str, bytes: &[u8]) {
        let p = root.join(url.strip_prefix("https://").unwrap());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn key(seed: u64, with_subkey: bool) -> SignedSecretKey {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut p = SecretKeyParamsBuilder::default();
        p.key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .primary_user_id("PSIRT <psirt@example.test>".into());
        if with_subkey {
            p.subkeys(vec![SubkeyParamsBuilder::default()
                .key_type(KeyType::Ed25519Legacy)
                .can_sign(true)
                .build()
                .unwrap()]);
        }
        p.build().unwrap().generate(&mut rng).unwrap()
    }

    fn sign(with: &impl pgp::types::SigningKey, data: &[u8]) -> Vec<u8> {
        let mut rng = StdRng::seed_from_u64(9);
        DetachedSignature::sign_binary_data(
            &mut rng,
            with,
            &Password::empty(),
            HashAlgorithm::Sha256,
            data,
        )
        .unwrap()
        .to_armored_bytes(ArmorOptions::default())
        .unwrap()
    }

    fn sha256(b: &[u8]) -> String {
        hex::encode(Sha256::digest(b))
    }

    const BASE: &str = "https://psirt.example.test/.well-known/csaf";
    const META: &str = "https://psirt.example.test/.well-known/csaf/provider-metadata.json";
    const KEY_URL: &str = "https://keys.example.test/vks/psirt.asc";

    fn metadata(fingerprint: &str) -> String {
        serde_json::json!({
            "canonical_url": META,
            "distributions": [
                {"rolie": {"feeds": [{"tlp_label": "WHITE", "url": format!("{BASE}/feed-tlp-white.json")}]}},
                {"directory_url": format!("{BASE}/white/")}
            ],
            "last_updated": "2026-11-01T00:00:00Z",
            "list_on_CSAF_aggregators": true,
            "metadata_version": "2.0",
            "mirror_on_CSAF_aggregators": true,
            "public_openpgp_keys": [{"fingerprint": fingerprint, "url": KEY_URL}],
            "publisher": {"category": "vendor", "name": "Example PSIRT", "namespace": "https://psirt.example.test"},
            "role": "csaf_trusted_provider"
        })
        .to_string()
    }

    fn entry(src: &str, links: &[(&str, String)]) -> serde_json::Value {
        let mut link = vec![serde_json::json!({"rel": "self", "href": src})];
        link.extend(
            links
                .iter()
                .map(|(r, h)| serde_json::json!({"rel": r, "href": h})),
        );
        serde_json::json!({
            "id": src, "title": "t", "link": link,
            "published": "2026-11-01T00:00:00Z", "updated": "2026-11-01T00:00:00Z",
            "content": {"type": "application/json", "src": src}
        })
    }

    /// The fixture: a provider with a ROLIE feed and a directory distribution.
    fn fixture(root: &Path) -> (SignedSecretKey, String) {
        let k = key(1, true);
        let fp = format!("{:X}", k.fingerprint());
        let public = SignedPublicKey::from(k.clone());
        put(
            root,
            KEY_URL,
            public
                .to_armored_string(ArmorOptions::default())
                .unwrap()
                .as_bytes(),
        );
        put(root, META, metadata(&fp).as_bytes());
        let doc = |n: &str| format!("{BASE}/white/2026/{n}.json");

        // ROLIE: good (sha256 + signature), wrong sha512, bad signature, missing, foreign origin.
        let good = br#"{"document":"good"}"#;
        put(root, &doc("good"), good);
        put(
            root,
            &format!("{}.sha256", doc("good")),
            format!("{}  good.json\n", sha256(good)).as_bytes(),
        );
        put(
            root,
            &format!("{}.asc", doc("good")),
            &sign(&k.primary_key, good),
        );

        let sums = br#"{"document":"wrong-sum"}"#;
        put(root, &doc("wrong-sum"), sums);
        put(
            root,
            &format!("{}.sha512", doc("wrong-sum")),
            format!("{}  wrong-sum.json\n", "ab".repeat(64)).as_bytes(),
        );

        let badsig = br#"{"document":"bad-signature"}"#;
        put(root, &doc("bad-signature"), badsig);
        put(
            root,
            &format!("{}.asc", doc("bad-signature")),
            &sign(&k.primary_key, b"other bytes"),
        );

        let feed = serde_json::json!({"feed": {
            "id": "f", "title": "Example feed", "updated": "2026-11-01T00:00:00Z",
            "link": [{"rel": "self", "href": format!("{BASE}/feed-tlp-white.json")}],
            "entry": [
                entry(&doc("good"), &[("hash", format!("{}.sha256", doc("good"))), ("signature", format!("{}.asc", doc("good")))]),
                entry(&doc("wrong-sum"), &[("hash", format!("{}.sha512", doc("wrong-sum")))]),
                entry(&doc("bad-signature"), &[("signature", format!("{}.asc", doc("bad-signature")))]),
                entry(&doc("missing"), &[]),
                entry("https://elsewhere.example.test/x.json", &[]),
            ]
        }});
        put(
            root,
            &format!("{BASE}/feed-tlp-white.json"),
            feed.to_string().as_bytes(),
        );

        // Directory: "good" again (deduplicated), one signed by the subkey with a sha512, one
        // without side files, one signed by a key the provider does not list.
        let sub = br#"{"document":"subkey"}"#;
        put(root, &doc("subkey"), sub);
        put(
            root,
            &format!("{}.asc", doc("subkey")),
            &sign(&k.public_subkeys_secret(), sub),
        );
        put(
            root,
            &format!("{}.sha512", doc("subkey")),
            hex::encode(Sha512::digest(sub)).as_bytes(),
        );
        let plain = br#"{"document":"plain"}"#;
        put(root, &doc("plain"), plain);
        let stranger = br#"{"document":"stranger"}"#;
        put(root, &doc("stranger"), stranger);
        put(
            root,
            &format!("{}.asc", doc("stranger")),
            &sign(&key(2, false).primary_key, stranger),
        );
        put(
            root,
            &format!("{BASE}/white/index.txt"),
            b"2026/good.json\n2026/subkey.json\n\n2026/plain.json\n2026/stranger.json\n",
        );
        (k, fp)
    }

    trait SubkeySecret {
        fn public_subkeys_secret(&self) -> pgp::packet::SecretSubkey;
    }
    impl SubkeySecret for SignedSecretKey {
        fn public_subkeys_secret(&self) -> pgp::packet::SecretSubkey {
            self.secret_subkeys[0].key.clone()
        }
    }

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("stadtmauer-provider-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn walks_rolie_and_directory_and_rejects_precisely() {
        let root = tmp("walk");
        let (_, fp) = fixture(&root);
        let w = walk(&Dir(root.clone()), META, &Limits::default()).unwrap();
        assert_eq!(w.keys, vec![fp.clone()]);
        assert!(w.problems.is_empty(), "{:?}", w.problems);
        assert!(!w.truncated);
        let doc = |n: &str| format!("{BASE}/white/2026/{n}.json");
        let accepted: Vec<(&str, Option<&str>, Option<&str>)> = w
            .documents
            .iter()
            .map(|d| (d.url.as_str(), d.checksum, d.signed_by.as_deref()))
            .collect();
        assert_eq!(
            accepted,
            vec![
                (doc("good").as_str(), Some("sha256"), Some(fp.as_str())),
                (doc("subkey").as_str(), Some("sha512"), Some(fp.as_str())),
                (doc("plain").as_str(), None, None),
            ]
        );
        assert_eq!(w.documents[0].bytes, br#"{"document":"good"}"#);
        let reasons: Vec<String> = w.rejected.iter().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 5, "{reasons:#?}");
        assert!(
            matches!(&w.rejected[0], Rejection::Checksum { url, algorithm: "sha512", .. } if *url == doc("wrong-sum")),
            "{reasons:#?}"
        );
        assert!(
            matches!(&w.rejected[1], Rejection::Signature { url, message, .. } if *url == doc("bad-signature") && message.contains("does not verify")),
            "{reasons:#?}"
        );
        assert!(
            matches!(&w.rejected[2], Rejection::Fetch { url, source: FetchError::NotFound { .. } } if *url == doc("missing")),
            "{reasons:#?}"
        );
        assert_eq!(
            w.rejected[3],
            Rejection::OutsideOrigin {
                url: "https://elsewhere.example.test/x.json".into()
            }
        );
        assert!(
            matches!(&w.rejected[4], Rejection::Signature { url, .. } if *url == doc("stranger")),
            "{reasons:#?}"
        );
        assert!(
            reasons[0].contains(&format!("{}.sha512", doc("wrong-sum"))),
            "{}",
            reasons[0]
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn wrong_fingerprint_leaves_signed_advisories_unverifiable() {
        let root = tmp("fingerprint");
        fixture(&root);
        put(&root, META, metadata(&"0".repeat(40)).as_bytes());
        let w = walk(&Dir(root.clone()), META, &Limits::default()).unwrap();
        assert!(w.keys.is_empty());
        assert!(
            matches!(&w.problems[..], [ProviderError::Fingerprint { url, .. }] if url == KEY_URL),
            "{:?}",
            w.problems
        );
        // Signed advisories cannot be checked and are refused; unsigned ones still come through.
        let urls: Vec<&str> = w.documents.iter().map(|d| d.url.as_str()).collect();
        assert_eq!(urls, vec![format!("{BASE}/white/2026/plain.json").as_str()]);
        assert!(w.rejected.iter().any(|r| matches!(r, Rejection::Signature { message, .. } if message.contains("no provider key"))));
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn limits_bound_the_walk() {
        let root = tmp("limits");
        fixture(&root);
        let limits = Limits {
            max_documents: 2,
            ..Limits::default()
        };
        let w = walk(&Dir(root.clone()), META, &limits).unwrap();
        assert!(w.truncated);
        assert_eq!(w.documents.len() + w.rejected.len(), 2);
        let limits = Limits {
            max_document_bytes: 10,
            ..Limits::default()
        };
        let w = walk(&Dir(root.clone()), META, &limits).unwrap();
        assert!(w.documents.is_empty());
        assert!(w.rejected.iter().any(|r| matches!(
            r,
            Rejection::Fetch {
                source: FetchError::TooLarge { max: 10, .. },
                ..
            }
        )));
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn changes_csv_is_the_fallback_listing() {
        let root = tmp("changes");
        fixture(&root);
        std::fs::remove_file(root.join("psirt.example.test/.well-known/csaf/white/index.txt"))
            .unwrap();
        put(
            &root,
            &format!("{BASE}/white/changes.csv"),
            b"\"2026/plain.json\",\"2026-11-02T00:00:00Z\"\n\"2026/subkey.json\",\"2026-11-01T00:00:00Z\"\n",
        );
        let w = walk(&Dir(root.clone()), META, &Limits::default()).unwrap();
        let urls: Vec<&str> = w.documents.iter().map(|d| d.url.as_str()).collect();
        assert!(
            urls.contains(&format!("{BASE}/white/2026/plain.json").as_str()),
            "{urls:?}"
        );
        assert!(
            urls.contains(&format!("{BASE}/white/2026/subkey.json").as_str()),
            "{urls:?}"
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn metadata_failures_are_errors() {
        let root = tmp("meta");
        assert!(matches!(
            walk(&Dir(root.clone()), META, &Limits::default()),
            Err(ProviderError::Fetch(FetchError::NotFound { .. }))
        ));
        put(&root, META, br#"{"canonical_url": 5}"#);
        let e = walk(&Dir(root.clone()), META, &Limits::default()).unwrap_err();
        assert!(e.to_string().contains("canonical_url"), "{e}");
        assert!(matches!(
            walk(
                &Dir(root.clone()),
                "http://psirt.example.test/x.json",
                &Limits::default()
            ),
            Err(ProviderError::NotHttps { .. })
        ));
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn listings_and_origins() {
        let check = |text: &str, want: Result<Vec<&str>, usize>| {
            let got = parse_index("u", text).map_err(|e| match e {
                ProviderError::Listing { line, .. } => line,
                _ => 0,
            });
            assert_eq!(
                got,
                want.map(|v| v.into_iter().map(String::from).collect()),
                "{text:?}"
            );
        };
        check("a/b.json\n\n c.json \n", Ok(vec!["a/b.json", "c.json"]));
        check("a.json\n../etc/passwd\n", Err(2));
        check("/abs.json", Err(1));
        check("https://evil/x.json", Err(1));
        check("a//b.json", Err(1));
        assert_eq!(
            parse_changes("u", "\"a/b.json\",\"2026-01-01T00:00:00Z\"\n").unwrap(),
            vec![("a/b.json".into(), "2026-01-01T00:00:00Z".into())]
        );
        assert!(parse_changes("u", "a.json").is_err());
        assert!(parse_changes("u", "\"a\"b\",\"x\"").is_err());
        assert_eq!(
            origin("https://Example.test:8443/a?b"),
            Some("https://example.test:8443".into())
        );
        assert_eq!(origin("https://psirt.example.test@evil.test/"), None);
        assert_eq!(origin("http://example.test/"), None);
        assert_eq!(origin("https:///x"), None);
    }

    #[test]
    fn oasis_examples_parse() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/csaf-2.0/csaf_2.0/examples"
        );
        let m = std::fs::read(format!(
            "{dir}/provider-metadata/example-01-provider-metadata.json"
        ))
        .unwrap();
        let m = parse_metadata("m", &m).unwrap();
        assert_eq!(m.public_openpgp_keys.len(), 1);
        assert_eq!(
            m.distributions[0].rolie.as_ref().unwrap().feeds[0].tlp_label,
            "WHITE"
        );
        let f = std::fs::read(format!("{dir}/ROLIE/example-01-feed-tlp-white.json")).unwrap();
        let f = parse_rolie_feed("f", &f).unwrap();
        assert_eq!(f.entry.len(), 1);
        assert!(f.entry[0].link.iter().any(|l| l.rel == "signature"));
    }
}
