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
    /// `text` or `json`.
    pub log_format: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://stadtmauer.sqlite3".into(),
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            trust_forwarded_for: false,
            session_idle_minutes: 480,
            log_format: "text".into(),
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
        Ok(c)
    }

    pub fn web(&self) -> stadtmauer_web::WebConfig {
        stadtmauer_web::WebConfig {
            secure_cookies: self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            trust_forwarded_for: self.trust_forwarded_for,
            session_idle_secs: self.session_idle_minutes.clamp(5, 7 * 24 * 60) * 60,
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
        let _ = std::fs::remove_file(dir);
    }
}
