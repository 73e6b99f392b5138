//! `vault.json`: the vault's id and how its data key is protected.
//!
//! The header holds no secret in the clear. In passphrase mode it carries the data key
//! wrapped with AES-256-GCM under a key-encryption key derived by Argon2id; every other
//! header field that matters (format, vault id, KDF parameters, salt) is bound to the
//! ciphertext as associated data, so editing any of them makes unwrapping fail.

use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};
use crate::key::{DataKey, Passphrase, DATA_KEY_LEN};

/// The header format this build writes and reads.
pub const HEADER_FORMAT: u32 = 1;

/// Argon2id memory cost for new vaults, in KiB (64 MiB).
pub const DEFAULT_KDF_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes for new vaults.
pub const DEFAULT_KDF_ITERATIONS: u32 = 3;
/// Argon2id lanes for new vaults.
pub const DEFAULT_KDF_PARALLELISM: u32 = 1;
/// The weakest memory cost Hearth accepts in a header: OWASP's floor of 19 MiB.
pub const MIN_KDF_MEMORY_KIB: u32 = 19 * 1024;
/// The fewest passes Hearth accepts in a header (OWASP's floor at 19 MiB).
pub const MIN_KDF_ITERATIONS: u32 = 2;
/// The largest memory cost Hearth accepts (1 GiB), so a doctored header cannot exhaust
/// memory: 16 times the default, and more than any machine Hearth runs on should spend.
pub const MAX_KDF_MEMORY_KIB: u32 = 1024 * 1024;
/// The most passes Hearth accepts, so a doctored header cannot stall unlocking.
pub const MAX_KDF_ITERATIONS: u32 = 16;
/// The most lanes Hearth accepts. Hearth's Argon2id runs its lanes on one thread, so
/// lanes add no speed, only bookkeeping.
pub const MAX_KDF_PARALLELISM: u32 = 8;
/// The most work Hearth accepts, as memory × passes in KiB: 2 GiB-passes, for example
/// 1 GiB at 2 passes or 128 MiB at 16. Argon2id's time grows with this product; at the
/// ceiling a derivation takes about 4 s on a 2-core machine (measured in
/// docs/PERFORMANCE.md), never minutes. The default (64 MiB × 3) is about 1/11 of it.
pub const MAX_KDF_WORK_KIB: u64 = 2 * 1024 * 1024;
const SALT_LEN: usize = 16;

/// Argon2id costs that Hearth refuses, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KdfRejected(String);

/// Argon2id cost parameters as stored in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Number of lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            memory_kib: DEFAULT_KDF_MEMORY_KIB,
            iterations: DEFAULT_KDF_ITERATIONS,
            parallelism: DEFAULT_KDF_PARALLELISM,
        }
    }
}

impl KdfParams {
    /// Refuses parameters below the OWASP floor or absurdly above any sane setting.
    pub fn check(&self) -> std::result::Result<(), KdfRejected> {
        if self.memory_kib < MIN_KDF_MEMORY_KIB || self.iterations < MIN_KDF_ITERATIONS {
            return Err(KdfRejected(format!(
                "its Argon2id parameters (m={} KiB, t={}) are below the minimum Hearth accepts (m={} KiB, t={})",
                self.memory_kib, self.iterations, MIN_KDF_MEMORY_KIB, MIN_KDF_ITERATIONS
            )));
        }
        let work = u64::from(self.memory_kib) * u64::from(self.iterations);
        if self.memory_kib > MAX_KDF_MEMORY_KIB
            || self.iterations > MAX_KDF_ITERATIONS
            || self.parallelism == 0
            || self.parallelism > MAX_KDF_PARALLELISM
            || work > MAX_KDF_WORK_KIB
        {
            return Err(KdfRejected(format!(
                "its Argon2id parameters (m={} KiB, t={}, p={}) ask for more than Hearth will spend (at most m={} KiB, t={}, p={}, and m×t at most {} KiB), so nothing was derived",
                self.memory_kib,
                self.iterations,
                self.parallelism,
                MAX_KDF_MEMORY_KIB,
                MAX_KDF_ITERATIONS,
                MAX_KDF_PARALLELISM,
                MAX_KDF_WORK_KIB
            )));
        }
        Ok(())
    }
}

/// The passphrase-wrapped copy of the data key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassphraseWrap {
    /// Always `argon2id`.
    pub kdf: String,
    /// Argon2id costs.
    #[serde(flatten)]
    pub params: KdfParams,
    /// Argon2id salt, base64.
    pub salt: String,
    /// AES-GCM nonce, base64; fresh for every wrap.
    pub nonce: String,
    /// The wrapped data key plus GCM tag, base64.
    pub wrapped_key: String,
}

/// The contents of `vault.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultHeader {
    /// Header format version.
    pub format: u32,
    /// The vault's id (UUIDv7); names its keychain entries.
    pub vault_id: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Whether the data key is stored in the OS keychain.
    pub keychain: bool,
    /// The passphrase-wrapped data key, if the vault has a passphrase.
    pub passphrase: Option<PassphraseWrap>,
    /// While the data key is being replaced: the new key's wrappings, so that whichever
    /// key the database is under after a crash, the vault opens (see `keys.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingKey>,
}

/// The new data key of a rotation that has not finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingKey {
    /// The new key under the vault's passphrase, when it has one.
    pub passphrase: Option<PassphraseWrap>,
    /// Whether the new key is in the keychain (under `vault-key-next:<vault id>`).
    pub keychain: bool,
    /// When the rotation started, Unix milliseconds.
    pub started_at: i64,
}

impl VaultHeader {
    /// Reads and checks the header at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .map_err(|e| VaultError::io(format!("cannot read {}", path.display()), e))?;
        let bad = |reason: String| VaultError::BadHeader {
            path: path.to_owned(),
            reason,
        };
        let header: VaultHeader =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("it is not valid: {e}")))?;
        if header.format != HEADER_FORMAT {
            return Err(bad(format!(
                "its format {} is not one this build reads ({HEADER_FORMAT})",
                header.format
            )));
        }
        if !header.keychain && header.passphrase.is_none() {
            return Err(bad("it names no way to unlock the vault".into()));
        }
        let pending = header.pending.as_ref().and_then(|p| p.passphrase.as_ref());
        for wrap in header.passphrase.iter().chain(pending) {
            if wrap.kdf != "argon2id" {
                return Err(bad(format!("its key derivation `{}` is unknown", wrap.kdf)));
            }
            wrap.params.check().map_err(|e| bad(e.to_string()))?;
        }
        Ok(header)
    }

    /// Writes the header atomically with private permissions.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(self)
            .map_err(|e| VaultError::Invalid(format!("cannot encode the vault header: {e}")))?;
        text.push(b'\n');
        crate::files::write_atomic(path, &text)
    }

    /// The associated data bound to the wrapped key: every header field an attacker
    /// could edit to weaken or redirect the unwrap.
    fn aad(&self, params: &KdfParams, salt_b64: &str) -> Vec<u8> {
        format!(
            "hearth-vault-header|format={}|vault={}|kdf=argon2id|m={}|t={}|p={}|salt={}",
            self.format,
            self.vault_id,
            params.memory_kib,
            params.iterations,
            params.parallelism,
            salt_b64
        )
        .into_bytes()
    }

    /// Wraps `key` under `passphrase` with fresh salt and nonce, replacing any earlier wrap.
    pub fn set_passphrase(
        &mut self,
        key: &DataKey,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<()> {
        self.passphrase = Some(self.wrap(key, passphrase, params)?);
        Ok(())
    }

    /// `key` wrapped under `passphrase` for this vault, with fresh salt and nonce.
    pub fn wrap(
        &self,
        key: &DataKey,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<PassphraseWrap> {
        params
            .check()
            .map_err(|e| VaultError::Invalid(format!("refusing to wrap the key: {e}")))?;
        let rng = SystemRandom::new();
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut salt)
            .and_then(|_| rng.fill(&mut nonce))
            .map_err(|_| VaultError::Invalid("the system random source failed".into()))?;
        let salt_b64 = B64.encode(salt);
        let kek = derive_kek(passphrase, &salt, &params)?;
        let aad = self.aad(&params, &salt_b64);
        let mut sealed = Zeroizing::new(key.expose().to_vec());
        kek.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut *sealed,
        )
        .map_err(|_| VaultError::Invalid("sealing the data key failed".into()))?;
        Ok(PassphraseWrap {
            kdf: "argon2id".into(),
            params,
            salt: salt_b64,
            nonce: B64.encode(nonce),
            wrapped_key: B64.encode(&*sealed),
        })
    }

    /// Recovers the data key with `passphrase`. A wrong passphrase and an edited header
    /// both fail authentication and give [`VaultError::WrongPassphrase`].
    pub fn unwrap_key(&self, passphrase: &Passphrase, path: &Path) -> Result<DataKey> {
        let wrap = self
            .passphrase
            .as_ref()
            .ok_or_else(|| VaultError::Invalid("this vault has no passphrase".into()))?;
        self.unwrap_with(wrap, passphrase, path)
    }

    /// Recovers the key `wrap` holds with `passphrase` (the vault's wrap, or a pending
    /// rotation's).
    pub fn unwrap_with(
        &self,
        wrap: &PassphraseWrap,
        passphrase: &Passphrase,
        path: &Path,
    ) -> Result<DataKey> {
        let bad = |reason: &str| VaultError::BadHeader {
            path: path.to_owned(),
            reason: reason.into(),
        };
        let salt = B64
            .decode(&wrap.salt)
            .map_err(|_| bad("its salt is not base64"))?;
        let nonce: [u8; NONCE_LEN] = B64
            .decode(&wrap.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| bad("its nonce is malformed"))?;
        let mut sealed = Zeroizing::new(
            B64.decode(&wrap.wrapped_key)
                .map_err(|_| bad("its wrapped key is not base64"))?,
        );
        if salt.len() < SALT_LEN {
            return Err(bad("its salt is too short"));
        }
        let kek = derive_kek(passphrase, &salt, &wrap.params)?;
        let aad = self.aad(&wrap.params, &wrap.salt);
        let plain = kek
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut sealed,
            )
            .map_err(|_| VaultError::WrongPassphrase)?;
        if plain.len() != DATA_KEY_LEN {
            return Err(bad("its wrapped key has the wrong length"));
        }
        DataKey::from_bytes(plain)
    }
}

fn derive_kek(passphrase: &Passphrase, salt: &[u8], params: &KdfParams) -> Result<LessSafeKey> {
    let argon_params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|e| VaultError::Invalid(format!("bad Argon2id parameters: {e}")))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose(), salt, kek.as_mut())
        .map_err(|e| VaultError::Invalid(format!("Argon2id failed: {e}")))?;
    let unbound = UnboundKey::new(&AES_256_GCM, kek.as_ref())
        .map_err(|_| VaultError::Invalid("cannot build the key-encryption key".into()))?;
    Ok(LessSafeKey::new(unbound))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floor, so unit tests stay fast; real vaults use the defaults.
    fn fast() -> KdfParams {
        KdfParams {
            memory_kib: MIN_KDF_MEMORY_KIB,
            iterations: MIN_KDF_ITERATIONS,
            parallelism: 1,
        }
    }

    fn header() -> VaultHeader {
        VaultHeader {
            format: HEADER_FORMAT,
            vault_id: "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee".into(),
            created_at: 1,
            keychain: false,
            passphrase: None,
            pending: None,
        }
    }

    #[test]
    fn wrap_and_unwrap() {
        let key = DataKey::generate().unwrap();
        let mut h = header();
        h.set_passphrase(&key, &Passphrase::new("correct horse"), fast())
            .unwrap();
        let back = h
            .unwrap_key(&Passphrase::new("correct horse"), Path::new("vault.json"))
            .unwrap();
        assert_eq!(back.expose(), key.expose());
        assert!(matches!(
            h.unwrap_key(&Passphrase::new("wrong horse"), Path::new("vault.json")),
            Err(VaultError::WrongPassphrase)
        ));
    }

    #[test]
    fn each_wrap_uses_fresh_salt_and_nonce() {
        let key = DataKey::generate().unwrap();
        let mut a = header();
        let mut b = header();
        a.set_passphrase(&key, &Passphrase::new("same phrase"), fast())
            .unwrap();
        b.set_passphrase(&key, &Passphrase::new("same phrase"), fast())
            .unwrap();
        let (a, b) = (a.passphrase.unwrap(), b.passphrase.unwrap());
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.wrapped_key, b.wrapped_key);
    }

    #[test]
    fn editing_bound_fields_breaks_the_unwrap() {
        let key = DataKey::generate().unwrap();
        let mut h = header();
        h.set_passphrase(&key, &Passphrase::new("correct horse"), fast())
            .unwrap();
        let pass = Passphrase::new("correct horse");
        let path = Path::new("vault.json");

        let mut other_id = h.clone();
        other_id.vault_id = "0190aaaa-bbbb-7ccc-8ddd-ffffffffffff".into();
        assert!(matches!(
            other_id.unwrap_key(&pass, path),
            Err(VaultError::WrongPassphrase)
        ));

        let mut more_iterations = h.clone();
        if let Some(w) = more_iterations.passphrase.as_mut() {
            w.params.iterations += 1;
        }
        assert!(matches!(
            more_iterations.unwrap_key(&pass, path),
            Err(VaultError::WrongPassphrase)
        ));
    }

    #[test]
    fn weak_or_absurd_parameters_are_refused() {
        let weak = KdfParams {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        assert!(weak.check().is_err());
        let huge = KdfParams {
            memory_kib: u32::MAX,
            iterations: 3,
            parallelism: 1,
        };
        assert!(huge.check().is_err());
        assert!(KdfParams::default().check().is_ok());
        assert!(
            KdfParams::default().memory_kib >= 64 * 1024 && KdfParams::default().iterations >= 3
        );
        let at = |memory_kib, iterations, parallelism| KdfParams {
            memory_kib,
            iterations,
            parallelism,
        };
        // The ceilings: 1 GiB, 16 passes, 8 lanes, and 2 GiB-passes of work in all.
        assert!(at(1024 * 1024, 2, 1).check().is_ok());
        assert!(at(128 * 1024, 16, 8).check().is_ok());
        for absurd in [
            at(1024 * 1024 + 1, 2, 1),
            at(2 * 1024 * 1024, 3, 1),
            at(4 * 1024 * 1024, 2, 1),
            at(64 * 1024, 17, 1),
            at(64 * 1024, 64, 1),
            at(64 * 1024, 3, 9),
            at(64 * 1024, 3, 16),
            at(64 * 1024, 3, 0),
            at(1024 * 1024, 3, 1),
            at(512 * 1024, 5, 1),
            at(256 * 1024, 16, 1),
        ] {
            let err = absurd.check().unwrap_err().to_string();
            assert!(
                err.contains("more than Hearth will spend"),
                "{absurd:?}: {err}"
            );
        }
    }

    /// Reads back a passphrase header whose parameters `edit` changed, and returns the error.
    fn read_with_edited_params(edit: impl FnOnce(&mut KdfParams)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.json");
        let key = DataKey::generate().unwrap();
        let mut h = header();
        h.set_passphrase(&key, &Passphrase::new("correct horse"), fast())
            .unwrap();
        if let Some(w) = h.passphrase.as_mut() {
            edit(&mut w.params);
        }
        h.write(&path).unwrap();
        VaultHeader::read(&path).unwrap_err().to_string()
    }

    #[test]
    fn a_header_asking_for_too_much_work_is_refused_on_read_before_any_derivation() {
        let err = read_with_edited_params(|p| {
            p.memory_kib = 4 * 1024 * 1024;
            p.iterations = 64;
            p.parallelism = 16;
        });
        assert!(err.contains("more than Hearth will spend"), "{err}");
    }

    #[test]
    fn a_header_with_weak_parameters_is_refused_on_read() {
        let err = read_with_edited_params(|p| p.memory_kib = 8);
        assert!(err.contains("below the minimum"), "{err}");
    }
}
