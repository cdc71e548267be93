//! Passwords (argon2id), random secrets, token hashing and TOTP second factors.

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
