//! Student tokens: short-lived, signed statements of who a student is and
//! what they may reach.
//!
//! A token is `wl1.<claims>.<mac>`: the claims as JSON in unpadded
//! base64url, and an HMAC-SHA256 over `wl1.<claims>` with the relay's token
//! key, also base64url. Only the relay (or relays sharing its key) can make
//! one; anyone can read the claims, so they hold nothing secret.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

const PREFIX: &str = "wl1.";

/// What a token says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The class id.
    pub class: String,
    /// The student id.
    pub sub: String,
    /// The name the student joined with.
    pub name: String,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// Expires at, Unix seconds.
    pub exp: u64,
    /// Catalog targets the student may open; empty means all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Whether custom `host`/`port` targets may be asked for (the relay's
    /// policy rules still decide which).
    #[serde(default)]
    pub custom: bool,
}

impl Claims {
    pub fn allows_target(&self, name: &str) -> bool {
        self.targets.is_empty() || self.targets.iter().any(|t| t == name)
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired { exp: u64 },
}

/// The key that signs and checks tokens.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    pub fn new(secret: &[u8]) -> Self {
        TokenKey(secret.to_vec())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signed = format!("{PREFIX}{body}");
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// The claims of a token this key signed that has not expired at `now`
    /// (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let claims = self.verify_signature(token)?;
        if claims.exp <= now {
            return Err(TokenError::Expired { exp: claims.exp });
        }
        Ok(claims)
    }

    /// The claims of a token this key signed, expired or not (rejoining
    /// from the same browser keeps the student's identity).
    pub fn verify_signature(&self, token: &str) -> Result<Claims, TokenError> {
        let (signed, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let body = signed.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            class: "c-1".into(),
            sub: "s-1".into(),
            name: "Alice".into(),
            iat: 100,
            exp,
            targets: vec!["upper-tcp".into()],
            custom: false,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
        let token = key.sign(&claims(200));
        assert!(token.starts_with("wl1."));
        assert_eq!(key.verify(&token, 150).unwrap(), claims(200));
        assert_eq!(
            key.verify(&token, 200),
            Err(TokenError::Expired { exp: 200 })
        );
        assert!(key.verify_signature(&token).is_ok());
    }

    #[test]
    fn tampering_and_other_keys_are_caught() {
        let key = TokenKey::new(b"0123456789abcdef0123456789abcdef");
        let token = key.sign(&claims(200));
        let other = TokenKey::new(b"another key, just as long as it..");
        assert_eq!(other.verify(&token, 150), Err(TokenError::BadSignature));
        // Swap in claims that allow everything, keeping the old signature.
        let forged_body = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                targets: vec![],
                custom: true,
                ..claims(10_000)
            })
            .unwrap(),
        );
        let tag = token.rsplit_once('.').unwrap().1;
        let forged = format!("wl1.{forged_body}.{tag}");
        assert_eq!(key.verify(&forged, 150), Err(TokenError::BadSignature));
        for junk in ["", "wl1.", "abc.def", "wl1.x.y", "wl2.a.b"] {
            assert!(key.verify(junk, 150).is_err(), "{junk}");
        }
        assert!(claims(1).allows_target("upper-tcp"));
        assert!(!claims(1).allows_target("smtp"));
    }
}
