//! Configuration: defaults → TOML file → `STADTMAUER_*` environment → command-line flags.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://file` (embedded, the default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Address and port to listen on.
    pub listen: String,
    /// The URL users reach the installation at; `https://…` turns on secure cookies.
    pub public_url: Option<String>,
    /// Take client addresses from `X-Forwarded-For` (only behind a reverse proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Minutes without a request after which a session ends.
    pub session_idle_minutes: i64,
    /// Hours after the login after which a session ends however active it is (1–168).
    pub session_max_hours: i64,
    /// `text` or `json`.
    pub log_format: String,
    /// Seconds a client has to send a complete request head (from the accept, or from the first
    /// byte of a later request on the same connection).
    pub header_read_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open after its last response.
    pub keep_alive_idle_secs: u64,
    /// Seconds a request body may take after its head (plus one per 64 KiB received).
    pub request_body_timeout_secs: u64,
    /// Connections served at once; more wait in the listen queue until one closes.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://stadtmauer.sqlite3".into(),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            trust_forwarded_for: false,
            session_idle_minutes: 480,
            session_max_hours: 12,
            log_format: "text".into(),
            header_read_timeout_secs: 10,
            keep_alive_idle_secs: 60,
            request_body_timeout_secs: 60,
            max_connections: 1024,
        }
    }
}

impl Config {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut c = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", p.display()))?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("config file {}: {e}", p.display()))?
            }
            None => Config::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = env("STADTMAUER_DATABASE_URL") {
            c.database_url = v;
        }
        if let Some(v) = env("STADTMAUER_LISTEN") {
            c.listen = v;
        }
        if let Some(v) = env("STADTMAUER_PUBLIC_URL") {
            c.public_url = Some(v);
        }
        if let Some(v) = env("STADTMAUER_TRUST_FORWARDED_FOR") {
            c.trust_forwarded_for = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = env("STADTMAUER_LOG_FORMAT") {
            c.log_format = v;
        }
        fn number<T: std::str::FromStr>(key: &str, v: &str) -> anyhow::Result<T> {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{key}: not a whole number: {v:?}"))
        }
        for (key, field) in [
            (
                "STADTMAUER_HEADER_READ_TIMEOUT_SECS",
                &mut c.header_read_timeout_secs,
            ),
            (
                "STADTMAUER_KEEP_ALIVE_IDLE_SECS",
                &mut c.keep_alive_idle_secs,
            ),
            (
                "STADTMAUER_REQUEST_BODY_TIMEOUT_SECS",
                &mut c.request_body_timeout_secs,
            ),
        ] {
            if let Some(v) = env(key) {
                *field = number(key, &v)?;
            }
        }
        if let Some(v) = env("STADTMAUER_SESSION_MAX_HOURS") {
            c.session_max_hours = number("STADTMAUER_SESSION_MAX_HOURS", &v)?;
        }
        if let Some(v) = env("STADTMAUER_MAX_CONNECTIONS") {
            c.max_connections = number("STADTMAUER_MAX_CONNECTIONS", &v)?;
        }
        Ok(c)
    }

    /// The connection limits of `serve`; zero is refused (it would mean "close at once").
    pub fn limits(&self) -> anyhow::Result<crate::server::Limits> {
        let secs = |key: &str, v: u64| {
            if v == 0 || v > 24 * 3600 {
                anyhow::bail!("{key} must be between 1 and 86400 seconds, not {v}");
            }
            Ok(std::time::Duration::from_secs(v))
        };
        if self.max_connections == 0 {
            anyhow::bail!("max_connections must be at least 1");
        }
        Ok(crate::server::Limits {
            header_read: secs("header_read_timeout_secs", self.header_read_timeout_secs)?,
            keep_alive_idle: secs("keep_alive_idle_secs", self.keep_alive_idle_secs)?,
            request_body: secs("request_body_timeout_secs", self.request_body_timeout_secs)?,
            max_connections: self.max_connections,
        })
    }

    pub fn web(&self) -> stadtmauer_web::WebConfig {
        stadtmauer_web::WebConfig {
            secure_cookies: self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            trust_forwarded_for: self.trust_forwarded_for,
            session_idle_secs: self.session_idle_minutes.clamp(5, 7 * 24 * 60) * 60,
            session_max_secs: self.session_max_hours.clamp(1, 7 * 24) * 3600,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("sm-config-{}", std::process::id()));
        std::fs::write(&dir, "databse_url = \"x\"\n").unwrap();
        let err = Config::load(Some(&dir)).unwrap_err().to_string();
        assert!(err.contains("databse_url"), "{err}");
        std::fs::write(
            &dir,
            "listen = \"0.0.0.0:9000\"\npublic_url = \"https://isms.example\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&dir)).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert!(c.web().secure_cookies);
        let limits = c.limits().unwrap();
        assert_eq!(limits.header_read, std::time::Duration::from_secs(10));
        assert_eq!(limits.keep_alive_idle, std::time::Duration::from_secs(60));
        assert_eq!(limits.request_body, std::time::Duration::from_secs(60));
        assert_eq!(limits.max_connections, 1024);
        std::fs::write(
            &dir,
            "header_read_timeout_secs = 2\nkeep_alive_idle_secs = 5\nmax_connections = 3\n",
        )
        .unwrap();
        let c = Config::load(Some(&dir)).unwrap();
        let limits = c.limits().unwrap();
        assert_eq!(limits.header_read, std::time::Duration::from_secs(2));
        assert_eq!(limits.keep_alive_idle, std::time::Duration::from_secs(5));
        assert_eq!(limits.max_connections, 3);
        std::fs::write(&dir, "header_read_timeout_secs = 0\n").unwrap();
        let err = Config::load(Some(&dir)).unwrap().limits().unwrap_err();
        assert!(
            err.to_string().contains("header_read_timeout_secs"),
            "{err}"
        );
        let _ = std::fs::remove_file(dir);
    }
}
