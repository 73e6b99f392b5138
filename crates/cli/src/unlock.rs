//! Finding the data directory and unlocking the vault: passphrases come from
//! `--passphrase-file`, then `HEARTH_PASSPHRASE`, then a prompt on the terminal.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use hearth_engine::{AppPaths, Engine, EngineError, OsKeychain, Passphrase, SecretStore};
use zeroize::Zeroizing;

/// The desktop app's identifier: both front ends keep their data in
/// `<platform data dir>/<APP_ID>`, so they share one vault.
pub const APP_ID: &str = "org.hearth.Hearth";

/// What every command needs to reach the vault.
pub struct Context {
    /// Resolved paths.
    pub paths: AppPaths,
    passphrase_file: Option<PathBuf>,
}

impl Context {
    /// Resolves the data directory: `--data-dir` / `HEARTH_DATA_DIR`, else the platform's.
    pub fn new(data_dir: Option<PathBuf>, passphrase_file: Option<PathBuf>) -> Result<Context> {
        let dir = match data_dir {
            Some(dir) => dir,
            None => dirs::data_dir()
                .context("cannot find your data folder; pass --data-dir or set HEARTH_DATA_DIR")?
                .join(APP_ID),
        };
        Ok(Context {
            paths: AppPaths::new(dir),
            passphrase_file,
        })
    }

    /// The OS keychain.
    pub fn store(&self) -> Arc<dyn SecretStore> {
        Arc::new(OsKeychain::default())
    }

    /// A passphrase given without asking: the file, then the environment.
    pub fn given_passphrase(&self) -> Result<Option<Passphrase>> {
        if let Some(path) = &self.passphrase_file {
            let text =
                Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the passphrase file {}", path.display())
                })?);
            let line = text.lines().next().unwrap_or("");
            return Ok(Some(Passphrase::new(line)));
        }
        match std::env::var("HEARTH_PASSPHRASE") {
            Ok(text) => Ok(Some(Passphrase::new(text))),
            Err(_) => Ok(None),
        }
    }

    /// Asks on the terminal, or explains how to give the passphrase when there is none.
    pub fn ask_passphrase(&self, prompt: &str) -> Result<Passphrase> {
        if !std::io::stdin().is_terminal() {
            bail!("this needs the vault passphrase: set HEARTH_PASSPHRASE or pass --passphrase-file FILE");
        }
        let text = rpassword::prompt_password(prompt).context("cannot read the passphrase")?;
        Ok(Passphrase::new(text))
    }

    /// Opens the vault if that needs no prompt; `None` when it is locked by a passphrase
    /// that was not given and cannot be asked for.
    pub fn open_without_prompt(&self) -> Result<Option<Engine>> {
        let given = self.given_passphrase()?;
        match Engine::open(&self.paths, self.store(), given.as_ref()) {
            Err(EngineError::Vault(hearth_engine::VaultError::PassphraseRequired))
                if given.is_none() && !std::io::stdin().is_terminal() =>
            {
                Ok(None)
            }
            Err(EngineError::Vault(hearth_engine::VaultError::PassphraseRequired))
                if given.is_none() =>
            {
                Ok(Some(self.open()?))
            }
            other => Ok(Some(other?)),
        }
    }

    /// Opens and unlocks the vault.
    pub fn open(&self) -> Result<Engine> {
        let store = self.store();
        self.unlocked(|p| Engine::open(&self.paths, store.clone(), p))
    }

    /// Runs `f` with the given passphrase (or none); if the vault turns out to need one
    /// that was not given, asks on the terminal and runs `f` again.
    pub fn unlocked<T>(
        &self,
        f: impl Fn(Option<&Passphrase>) -> hearth_engine::Result<T>,
    ) -> Result<T> {
        let given = self.given_passphrase()?;
        match f(given.as_ref()) {
            Err(EngineError::Vault(hearth_engine::VaultError::PassphraseRequired))
                if given.is_none() =>
            {
                let asked = self.ask_passphrase("Vault passphrase: ")?;
                Ok(f(Some(&asked))?)
            }
            other => Ok(other?),
        }
    }
}
