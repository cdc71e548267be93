//! Passwords (argon2id and the policy for new ones), random secrets, token hashing and expiry,
//! signed values, and TOTP second factors.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id and the OWASP-recommended parameters (19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, crate::DomainError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| crate::DomainError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored hash. Unknown users are checked against a dummy hash so that
/// the answer takes as long as for a real account (no user enumeration by timing).
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3RhZHRtYXVlcmR1bW15$1LEYAPi2tALmbtQeZN1xQd9uCLBqRwvxNoUMiE51ZV0";
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (DUMMY, false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

/// A random secret of `bytes` bytes, URL-safe base64 without padding.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A password people can type from a printed console line: 4 groups of 5 letters and digits,
/// without look-alikes (about 116 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    let mut out = String::new();
    for group in 0..4 {
        if group > 0 {
            out.push('-');
        }
        for _ in 0..5 {
            let i = (rng.next_u32() as usize) % ALPHABET.len();
            out.push(ALPHABET[i] as char);
        }
    }
    out
}

/// Shortest password a user may choose. Long passphrases beat complexity rules (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted: argon2 takes any length, but nobody types more, and a bound keeps
/// hashing cheap.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The shipped list of common and breached passwords, lower-cased, only entries of at least
/// [`MIN_PASSWORD_CHARS`] characters (shorter ones fail the length rule anyway). Source and
/// licence: `data/SOURCE.md`.
const COMMON_PASSWORDS_GZ: &[u8] = include_bytes!("../data/common-passwords.txt.gz");

/// The common passwords, unpacked once on first use (about 44,000 entries).
fn common_passwords() -> &'static std::collections::HashSet<Box<str>> {
    static SET: std::sync::OnceLock<std::collections::HashSet<Box<str>>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| {
        use std::io::Read;
        let mut text = String::new();
        // A damaged list would be an empty set here; `the_common_password_list_loads` guards it.
        if flate2::read::GzDecoder::new(COMMON_PASSWORDS_GZ)
            .read_to_string(&mut text)
            .is_err()
        {
            text.clear();
        }
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(Box::from)
            .collect()
    })
}

/// The one rule for a password a person chooses or is given (own change, manager's reset,
/// command line): at least 12 characters, at most 256, not in the list of common and breached
/// passwords (compared case-insensitively), and not the e-mail address or its name part. The
/// error is an i18n key.
pub fn check_new_password(password: &str, email: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err("err.password_short");
    }
    if n > MAX_PASSWORD_CHARS {
        return Err("err.too_long");
    }
    let lower = password.trim().to_lowercase();
    if common_passwords().contains(lower.as_str()) {
        return Err("err.password_common");
    }
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or("");
    // A password built around one's own address is among the first an attacker tries.
    if !email.is_empty()
        && (lower.contains(&email) || (local.chars().count() >= 4 && lower.contains(local)))
    {
        return Err("err.password_personal");
    }
    Ok(())
}

/// A generated password that passes [`check_new_password`] for this address (the random ones
/// practically always do; the loop makes it certain rather than likely).
pub fn generate_password_for(email: &str) -> String {
    let mut password = generate_password();
    for _ in 0..16 {
        if check_new_password(&password, email).is_ok() {
            break;
        }
        password = generate_password();
    }
    password
}

/// Lifetime of a personal API token when the user does not choose one.
pub const TOKEN_DEFAULT_DAYS: i64 = 90;
/// Longest lifetime of a personal API token: a forgotten token should not work for ever.
pub const TOKEN_MAX_DAYS: i64 = 365;

/// When a new API token expires: at the end of the chosen date (`until`, `YYYY-MM-DD`, UTC) if
/// given, else after the chosen number of `days`, else after [`TOKEN_DEFAULT_DAYS`]. More than
/// [`TOKEN_MAX_DAYS`] ahead, or not in the future, is refused. The error names the form field
/// (`expires_in_days` or `expires_on`) and an i18n key.
pub fn token_expiry(
    days: &str,
    until: &str,
    now: crate::Timestamp,
) -> Result<crate::Timestamp, (&'static str, &'static str)> {
    const DAY: i64 = 86_400;
    let (days, until) = (days.trim(), until.trim());
    if !until.is_empty() {
        let field = "expires_on";
        let at = crate::user::parse_date_end_of_day(until).ok_or((field, "err.date_format"))?;
        if at <= now {
            return Err((field, "err.date_in_past"));
        }
        if at.div_euclid(DAY) - now.div_euclid(DAY) > TOKEN_MAX_DAYS {
            return Err((field, "err.token_too_long"));
        }
        return Ok(at);
    }
    let field = "expires_in_days";
    let days: i64 = if days.is_empty() {
        TOKEN_DEFAULT_DAYS
    } else {
        days.parse().map_err(|_| (field, "err.not_a_number"))?
    };
    if days < 1 {
        return Err((field, "err.out_of_range"));
    }
    if days > TOKEN_MAX_DAYS {
        return Err((field, "err.token_too_long"));
    }
    Ok(now + days * DAY)
}

/// HMAC-SHA256 of `message` under `key`, as hex: a value the server handed out and wants back
/// unchanged (the pre-login CSRF cookie).
pub fn sign(key: &[u8], message: &str) -> String {
    use hmac::Mac;
    match hmac::Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this arm is never reached.
        Err(_) => String::new(),
    }
}

/// Whether `signature` is [`sign`]`(key, message)`, compared in constant time.
pub fn verify_signature(key: &[u8], message: &str, signature: &str) -> bool {
    use hmac::Mac;
    let Ok(given) = hex::decode(signature) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(message.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// SHA-256 of a bearer secret (session id, API token) as hex. Such secrets are long and random,
/// so a fast hash suffices; the database never holds the secret itself.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new personal API token: the plain value (shown once) and its hash (stored).
pub fn new_api_token() -> (String, String) {
    let plain = format!("smt_{}", random_secret(32));
    let hash = secret_hash(&plain);
    (plain, hash)
}

/// TOTP (RFC 6238, SHA-1, 6 digits, 30 s) as every authenticator app understands it.
pub mod totp {
    use totp_rs::{Algorithm, Secret, TOTP};

    /// A fresh base32 secret of 160 bits.
    pub fn new_secret() -> String {
        Secret::generate_secret().to_encoded().to_string()
    }

    fn build(secret_b32: &str, account: &str) -> Option<TOTP> {
        let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
        TOTP::new(
            Algorithm::SHA1,
            6,
            1,
            30,
            bytes,
            Some("Stadtmauer".to_string()),
            account.to_string(),
        )
        .ok()
    }

    /// The `otpauth://` URL an authenticator app scans.
    pub fn provisioning_url(secret_b32: &str, account: &str) -> Option<String> {
        build(secret_b32, account).map(|t| t.get_url())
    }

    /// The code for an instant (used by tests and the demo).
    pub fn code_at(secret_b32: &str, unix: u64) -> Option<String> {
        build(secret_b32, "x").map(|t| t.generate(unix))
    }

    /// Checks a code, allowing one step of clock skew either way. Returns the matched time step so
    /// the caller can refuse the same code twice (replay).
    pub fn verify(secret_b32: &str, code: &str, unix: u64, last_step: Option<i64>) -> Option<i64> {
        let code = code.trim().replace(' ', "");
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let t = build(secret_b32, "x")?;
        let step = (unix / 30) as i64;
        for candidate in [step - 1, step, step + 1] {
            if candidate < 0 || last_step.is_some_and(|l| candidate <= l) {
                continue;
            }
            if t.generate(candidate as u64 * 30) == code {
                return Some(candidate);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("korrekt pferd batterie").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("korrekt pferd batterie", Some(&h)));
        assert!(!verify_password("falsch", Some(&h)));
        assert!(!verify_password("korrekt pferd batterie", None));
        assert!(!verify_password("x", Some("not a hash")));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password();
        assert_eq!(a.len(), 23);
        assert_ne!(a, generate_password());
    }

    #[test]
    fn the_common_password_list_loads() {
        let n = common_passwords().len();
        assert!(n > 40_000, "{n} entries");
        assert!(common_passwords()
            .iter()
            .all(|p| p.chars().count() >= MIN_PASSWORD_CHARS));
    }

    #[test]
    fn new_passwords_follow_the_policy() {
        let email = "dirk.hollmann@falkenhorst.example";
        assert_eq!(check_new_password("kurz", email), Err("err.password_short"));
        assert_eq!(
            check_new_password("elf zeichen", email),
            Err("err.password_short")
        );
        // From the top of the breached list, whatever the case.
        for common in [
            "qwerty123456",
            "QWERTY123456",
            "1qaz2wsx3edc",
            "Iloveyou1234",
        ] {
            assert_eq!(
                check_new_password(common, email),
                Err("err.password_common"),
                "{common}"
            );
        }
        assert_eq!(
            check_new_password("dirk.hollmann-2024", email),
            Err("err.password_personal")
        );
        assert_eq!(
            check_new_password(&"x".repeat(300), email),
            Err("err.too_long")
        );
        assert_eq!(check_new_password("korrekt pferd batterie", email), Ok(()));
        // 12 characters, umlauts counted as one each.
        assert_eq!(check_new_password("Ölkännchenüb", email), Ok(()));
        for _ in 0..200 {
            assert_eq!(check_new_password(&generate_password(), email), Ok(()));
            assert_eq!(
                check_new_password(&generate_password_for(email), email),
                Ok(())
            );
        }
    }

    #[test]
    fn token_expiry_defaults_to_90_days_and_stops_at_a_year() {
        let now = 1_800_000_000; // 2027-01-15
        assert_eq!(token_expiry("", "", now), Ok(now + 90 * 86_400));
        assert_eq!(token_expiry("7", "", now), Ok(now + 7 * 86_400));
        assert_eq!(token_expiry(" 365 ", "", now), Ok(now + 365 * 86_400));
        assert_eq!(
            token_expiry("366", "", now),
            Err(("expires_in_days", "err.token_too_long"))
        );
        assert_eq!(
            token_expiry("0", "", now),
            Err(("expires_in_days", "err.out_of_range"))
        );
        assert_eq!(
            token_expiry("viele", "", now),
            Err(("expires_in_days", "err.not_a_number"))
        );
        // A date wins over the number of days.
        assert_eq!(
            token_expiry("90", "2027-02-01", now),
            crate::user::parse_date_end_of_day("2027-02-01").ok_or(("", ""))
        );
        assert!(token_expiry("", "2028-01-15", now).is_ok());
        assert_eq!(
            token_expiry("", "2028-01-16", now),
            Err(("expires_on", "err.token_too_long"))
        );
        assert_eq!(
            token_expiry("", "2020-01-01", now),
            Err(("expires_on", "err.date_in_past"))
        );
        assert_eq!(
            token_expiry("", "15.01.2027", now),
            Err(("expires_on", "err.date_format"))
        );
    }

    #[test]
    fn signatures_bind_key_and_message() {
        let sig = sign(b"key", "token");
        assert_eq!(sig.len(), 64);
        assert!(verify_signature(b"key", "token", &sig));
        assert!(!verify_signature(b"other key", "token", &sig));
        assert!(!verify_signature(b"key", "tokem", &sig));
        assert!(!verify_signature(b"key", "token", "zz"));
        assert!(!verify_signature(b"key", "token", ""));
    }

    #[test]
    fn totp_accepts_current_and_refuses_replay() {
        let s = totp::new_secret();
        let now = 1_800_000_000u64;
        let code = totp::code_at(&s, now).unwrap();
        let step = totp::verify(&s, &code, now, None).unwrap();
        assert_eq!(step, (now / 30) as i64);
        assert_eq!(totp::verify(&s, &code, now, Some(step)), None);
        assert_eq!(totp::verify(&s, "12345", now, None), None);
        assert!(totp::verify(&s, &code, now + 600, None).is_none());
        assert!(totp::provisioning_url(&s, "a@b.de")
            .unwrap()
            .starts_with("otpauth://totp/"));
    }
}
