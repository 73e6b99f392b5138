//! `passphrase change`, `protect` and `rekey`: what unlocks the vault, and its data key.
//!
//! The current passphrase comes as for every command (`--passphrase-file`,
//! `HEARTH_PASSPHRASE`, the terminal); a new one from `--new-passphrase-file`, then
//! `HEARTH_NEW_PASSPHRASE`, then the terminal, asked twice.

use anyhow::{bail, Context as _, Result};
use hearth_engine::{Engine, Passphrase, PassphraseChange, RotationStep};
use zeroize::Zeroizing;

use crate::args::{NewPassphrase, OnOff};
use crate::output::{errln, ProgressLine};
use crate::unlock::Context;

/// The new passphrase: the file, the environment, or asked twice.
fn new_passphrase(ctx: &Context, new: &NewPassphrase) -> Result<Passphrase> {
    let given = match &new.new_passphrase_file {
        Some(path) => {
            let text = Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
                format!("cannot read the new passphrase file {}", path.display())
            })?);
            Some(Passphrase::new(text.lines().next().unwrap_or("")))
        }
        None => std::env::var("HEARTH_NEW_PASSPHRASE")
            .ok()
            .map(Passphrase::new),
    };
    let passphrase = match given {
        Some(p) => p,
        None => {
            if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                bail!("this needs the new passphrase: set HEARTH_NEW_PASSPHRASE or pass --new-passphrase-file FILE; nothing was changed");
            }
            let first = ctx.ask_passphrase("New passphrase: ")?;
            let again = ctx.ask_passphrase("Repeat it: ")?;
            if first.expose() != again.expose() {
                bail!("the two passphrases differ; nothing was changed");
            }
            first
        }
    };
    passphrase.check_strength()?;
    Ok(passphrase)
}

/// The vault opened with its passphrase when it has one (so the user proves it), else
/// from the keychain; and that passphrase.
fn open_proving(ctx: &Context) -> Result<(Engine, Option<Passphrase>)> {
    let header = Engine::header(&ctx.paths)?;
    if header.passphrase.is_none() {
        return Ok((ctx.open()?, None));
    }
    let current = match ctx.given_passphrase()? {
        Some(p) => p,
        None => ctx.ask_passphrase("Current passphrase: ")?,
    };
    let engine = Engine::open(&ctx.paths, ctx.store(), Some(&current))?;
    Ok((engine, Some(current)))
}

fn mode_words(ctx: &Context) -> Result<&'static str> {
    let header = Engine::header(&ctx.paths)?;
    Ok(match (header.keychain, header.passphrase.is_some()) {
        (true, true) => "its key is in your OS keychain, and your passphrase opens it too",
        (true, false) => "its key is in your OS keychain; no passphrase opens it",
        _ => "only your passphrase opens it; the OS keychain holds nothing of it",
    })
}

/// `hearth passphrase change`.
pub fn change_passphrase(ctx: &Context, new: &NewPassphrase) -> Result<()> {
    let header = Engine::header(&ctx.paths)?;
    if header.passphrase.is_none() {
        bail!("this vault has no passphrase; add one with `hearth protect --passphrase on`");
    }
    let (engine, current) = open_proving(ctx)?;
    let new = new_passphrase(ctx, new)?;
    engine.set_protection(
        current.as_ref(),
        header.keychain,
        PassphraseChange::Set(new),
    )?;
    errln!("Changed the passphrase; the old one no longer opens the vault.");
    Ok(())
}

/// `hearth protect --keychain on|off --passphrase on|off`.
pub fn protect(
    ctx: &Context,
    keychain: Option<OnOff>,
    passphrase: Option<OnOff>,
    new: &NewPassphrase,
) -> Result<()> {
    if keychain.is_none() && passphrase.is_none() {
        bail!("say what to change: --keychain on|off and/or --passphrase on|off");
    }
    let header = Engine::header(&ctx.paths)?;
    let keychain = keychain.map_or(header.keychain, |k| k == OnOff::On);
    let (engine, current) = open_proving(ctx)?;
    let change = match (passphrase, header.passphrase.is_some()) {
        (Some(OnOff::On), false) => PassphraseChange::Set(new_passphrase(ctx, new)?),
        (Some(OnOff::Off), true) => PassphraseChange::Remove,
        _ => PassphraseChange::Keep,
    };
    engine.set_protection(current.as_ref(), keychain, change)?;
    errln!("Saved: {}.", mode_words(ctx)?);
    Ok(())
}

/// `hearth rekey`.
pub fn rekey(ctx: &Context) -> Result<()> {
    let (engine, current) = open_proving(ctx)?;
    let mut line = ProgressLine::new();
    let result = engine.rotate_key(current.as_ref(), |step| match step {
        RotationStep::Copying { total, .. } => {
            line.show(|| format!("Re-encrypting {total} pages under the new key…"))
        }
        RotationStep::Prepared | RotationStep::Swapped | RotationStep::Finished => {}
    });
    line.clear();
    result?;
    errln!("Replaced the data key: every page is encrypted under the new one, and the old key opens nothing.");
    Ok(())
}
