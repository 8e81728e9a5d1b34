//! Session tokens: the service hands each new visitor a session id and a token that expires,
//! `EXPIRES_AT_MS.HMAC`, where the HMAC-SHA256 under the service's secret covers the id and the
//! expiry. Events posted for a session, and reads of its recommendations (whose reasons name the
//! items it liked), must carry its token, so nobody reads or writes another visitor's history.
//! No personal data is involved: the id is random.

use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret that signs session tokens; from configuration, or generated once and kept in the
/// data directory so tokens survive restarts.
#[derive(Clone)]
pub struct SessionKeys {
    secret: Vec<u8>,
    ttl_ms: i64,
}

/// A new session as `POST /v1/sessions` returns it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IssuedSession {
    pub session_id: String,
    pub token: String,
    pub expires_at_ms: i64,
}

/// Why a token does not open a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRefused {
    /// Not a token this service issued for this session.
    NotThisSession,
    Expired {
        at_ms: i64,
    },
}

impl SessionKeys {
    pub fn new(secret: Vec<u8>, ttl_ms: i64) -> SessionKeys {
        SessionKeys { secret, ttl_ms }
    }

    fn mac(&self, session: &str, expires_at_ms: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(session.as_bytes());
        mac.update(b"\n");
        mac.update(expires_at_ms.to_string().as_bytes());
        mac
    }

    /// A new session id and its token, good until `now_ms` plus the configured lifetime.
    pub fn issue(&self, now_ms: i64) -> IssuedSession {
        let session_id = format!("s-{:032x}", rand::random::<u128>());
        let expires_at_ms = now_ms.saturating_add(self.ttl_ms);
        let signature = self.mac(&session_id, expires_at_ms).finalize().into_bytes();
        let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
        IssuedSession { token: format!("{expires_at_ms}.{hex}"), session_id, expires_at_ms }
    }

    /// Whether `token` was issued for `session` and is still good at `now_ms`; the signature is
    /// compared in constant time, and checked before the expiry so a forged expiry says nothing.
    pub fn verify(&self, session: &str, token: &str, now_ms: i64) -> Result<(), TokenRefused> {
        let (expires, signature) = token.split_once('.').ok_or(TokenRefused::NotThisSession)?;
        let expires_at_ms: i64 = expires.parse().map_err(|_| TokenRefused::NotThisSession)?;
        let signature = decode_hex(signature).ok_or(TokenRefused::NotThisSession)?;
        // The expiry is signed as the issuer wrote it, so "+5" or "05" cannot stand for "5".
        if expires_at_ms.to_string() != expires {
            return Err(TokenRefused::NotThisSession);
        }
        self.mac(session, expires_at_ms).verify_slice(&signature).map_err(|_| TokenRefused::NotThisSession)?;
        match now_ms < expires_at_ms {
            true => Ok(()),
            false => Err(TokenRefused::Expired { at_ms: expires_at_ms }),
        }
    }
}

/// The token of `Authorization: Bearer TOKEN`, when the request has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const DAY: i64 = 24 * 3600 * 1000;

    #[test]
    fn tokens_verify_only_for_their_session_and_key() {
        let keys = SessionKeys::new(b"secret".to_vec(), DAY);
        let issued = keys.issue(NOW);
        let (id, token) = (&issued.session_id, &issued.token);
        assert!(id.starts_with("s-") && id.len() == 34);
        assert_eq!(keys.verify(id, token, NOW), Ok(()));
        let other = keys.issue(NOW).session_id;
        assert_ne!(id, &other);
        assert_eq!(keys.verify(&other, token, NOW), Err(TokenRefused::NotThisSession));
        assert!(SessionKeys::new(b"another".to_vec(), DAY).verify(id, token, NOW).is_err());
        let flip = |c: char| if c == '0' { '1' } else { '0' };
        let tampered = format!("{}{}", &token[..token.len() - 1], flip(token.chars().last().unwrap()));
        let hex_only = token.split_once('.').unwrap().1;
        for broken in ["", "zz", &token[..10], &tampered, hex_only, &format!("+{token}"), &format!("0{token}")] {
            assert_eq!(keys.verify(id, broken, NOW), Err(TokenRefused::NotThisSession), "{broken}");
        }
    }

    #[test]
    fn tokens_expire_and_a_later_expiry_cannot_be_written_in() {
        let keys = SessionKeys::new(b"secret".to_vec(), DAY);
        let issued = keys.issue(NOW);
        assert_eq!(issued.expires_at_ms, NOW + DAY);
        assert_eq!(keys.verify(&issued.session_id, &issued.token, NOW + DAY - 1), Ok(()));
        assert_eq!(
            keys.verify(&issued.session_id, &issued.token, NOW + DAY),
            Err(TokenRefused::Expired { at_ms: NOW + DAY })
        );
        let signature = issued.token.split_once('.').unwrap().1;
        let extended = format!("{}.{signature}", NOW + 365 * DAY);
        assert_eq!(keys.verify(&issued.session_id, &extended, NOW + 2 * DAY), Err(TokenRefused::NotThisSession));
    }
}
