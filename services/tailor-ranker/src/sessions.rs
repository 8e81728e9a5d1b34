//! Session tokens: the service hands each new visitor a session id and a token, an HMAC-SHA256 of
//! the id under the service's secret. Events posted over HTTP must carry the token of the session
//! they are for, so nobody can write into another visitor's history. No personal data is involved:
//! the id is random.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret that signs session tokens; from configuration, or generated once and kept in the
/// data directory so tokens survive restarts.
#[derive(Clone)]
pub struct SessionKeys {
    secret: Vec<u8>,
}

impl SessionKeys {
    pub fn new(secret: Vec<u8>) -> SessionKeys {
        SessionKeys { secret }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length")
    }

    /// A new session id and its token.
    pub fn issue(&self) -> (String, String) {
        let id = format!("s-{:032x}", rand::random::<u128>());
        let token = self.token(&id);
        (id, token)
    }

    fn token(&self, session: &str) -> String {
        let mut mac = self.mac();
        mac.update(session.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `token` was issued for `session`; compared in constant time.
    pub fn verify(&self, session: &str, token: &str) -> bool {
        let Some(bytes) = decode_hex(token) else { return false };
        let mut mac = self.mac();
        mac.update(session.as_bytes());
        mac.verify_slice(&bytes).is_ok()
    }
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

    #[test]
    fn tokens_verify_only_for_their_session_and_key() {
        let keys = SessionKeys::new(b"secret".to_vec());
        let (id, token) = keys.issue();
        assert!(id.starts_with("s-") && id.len() == 34);
        assert!(keys.verify(&id, &token));
        let (other, _) = keys.issue();
        assert_ne!(id, other);
        assert!(!keys.verify(&other, &token));
        assert!(!SessionKeys::new(b"another".to_vec()).verify(&id, &token));
        let tampered = format!("{}{}", if token.starts_with('0') { '1' } else { '0' }, &token[1..]);
        for broken in ["", "zz", &token[..10], &tampered] {
            assert!(!keys.verify(&id, broken), "{broken}");
        }
    }
}
