//! The data key and the user's passphrase, both held in memory that is wiped on drop.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};

/// Length of the data key in bytes (a raw 256-bit SQLCipher key).
pub const DATA_KEY_LEN: usize = 32;

/// The vault's data key: the raw SQLCipher key. Never printed, wiped on drop.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; DATA_KEY_LEN]>);

impl DataKey {
    /// A fresh key from the operating system's secure random source.
    pub fn generate() -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; DATA_KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| VaultError::Invalid("the system random source failed".into()))?;
        Ok(DataKey(bytes))
    }

    /// Rebuilds a key from its bytes; fails unless there are exactly 32.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let array: [u8; DATA_KEY_LEN] = bytes.try_into().map_err(|_| {
            VaultError::Invalid(format!(
                "a data key is {DATA_KEY_LEN} bytes, this one is {}",
                bytes.len()
            ))
        })?;
        Ok(DataKey(Zeroizing::new(array)))
    }

    /// Parses the 64-character hex form printed by `hearth vault-key --reveal`.
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes =
            Zeroizing::new(hex::decode(text.trim()).map_err(|_| {
                VaultError::Invalid("a data key is 64 hexadecimal characters".into())
            })?);
        DataKey::from_bytes(&bytes)
    }

    /// The key's bytes.
    pub fn expose(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }

    /// The key as 64 lowercase hex characters, in wiped memory.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A passphrase typed by the user. Never printed, wiped on drop.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// The shortest passphrase accepted for a new vault.
    pub const MIN_LEN: usize = 8;

    /// Wraps a passphrase.
    pub fn new(text: impl Into<String>) -> Self {
        Passphrase(Zeroizing::new(text.into()))
    }

    /// The passphrase's bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Checks that the passphrase is acceptable for a new vault.
    pub fn check_strength(&self) -> Result<()> {
        if self.0.chars().count() < Self::MIN_LEN {
            return Err(VaultError::PassphraseTooShort(Self::MIN_LEN));
        }
        Ok(())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_round_trip_through_hex() {
        let a = DataKey::generate().unwrap();
        let b = DataKey::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
        let again = DataKey::from_hex(&a.to_hex()).unwrap();
        assert_eq!(again.expose(), a.expose());
    }

    #[test]
    fn bad_hex_is_refused() {
        assert!(DataKey::from_hex("abcd").is_err());
        assert!(DataKey::from_hex(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let k = DataKey::from_bytes(&[0xab; 32]).unwrap();
        assert!(!format!("{k:?}").contains("ab"));
        let p = Passphrase::new("hunter2-canary");
        assert!(!format!("{p:?}").contains("canary"));
    }
}
