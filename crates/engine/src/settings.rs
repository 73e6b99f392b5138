//! App preferences kept inside the encrypted vault (so they say nothing about the user
//! on disk): today the idle auto-lock.

use serde::{Deserialize, Serialize};

use crate::{Engine, EngineError, Result};

const AUTO_LOCK_SETTING: &str = "auto_lock_minutes";
const RETENTION_SETTING: &str = "retention_days";
const RETENTION_LAST_RUN: &str = "retention_last_run";

/// The longest idle time the auto-lock accepts: one day.
pub const MAX_AUTO_LOCK_MINUTES: u32 = 24 * 60;

/// The longest retention period: one hundred years.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Preferences a front end shows and changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Lock the vault after this many idle minutes; `None` never locks by itself.
    pub auto_lock_minutes: Option<u32>,
    /// Delete conversations not touched for this many days (pinned ones are kept);
    /// `None`, the default, keeps everything.
    pub retention_days: Option<u32>,
}

/// A stored number within `1..=max`, or `None` (also for values this build does not
/// understand: better the default than refusing to show the settings).
fn bounded(value: Option<serde_json::Value>, max: u32) -> Option<u32> {
    value
        .and_then(|v| v.as_u64())
        .and_then(|m| u32::try_from(m).ok())
        .filter(|m| (1..=max).contains(m))
}

fn check(name: &str, value: Option<u32>, max: u32, unit: &str) -> Result<()> {
    match value {
        Some(v) if !(1..=max).contains(&v) => Err(EngineError::Invalid(format!(
            "{name} takes 1 to {max} {unit}, not {v}"
        ))),
        _ => Ok(()),
    }
}

fn json(value: Option<u32>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, serde_json::Value::from)
}

impl Engine {
    /// The current preferences; missing ones take their defaults.
    pub fn settings(&self) -> Result<Settings> {
        let vault = self.vault()?;
        Ok(Settings {
            auto_lock_minutes: bounded(vault.setting(AUTO_LOCK_SETTING)?, MAX_AUTO_LOCK_MINUTES),
            retention_days: bounded(vault.setting(RETENTION_SETTING)?, MAX_RETENTION_DAYS),
        })
    }

    /// Saves the preferences after checking them.
    pub fn set_settings(&self, settings: Settings) -> Result<Settings> {
        check(
            "auto-lock",
            settings.auto_lock_minutes,
            MAX_AUTO_LOCK_MINUTES,
            "minutes",
        )?;
        check(
            "retention",
            settings.retention_days,
            MAX_RETENTION_DAYS,
            "days",
        )?;
        let vault = self.vault()?;
        vault.set_setting(AUTO_LOCK_SETTING, &json(settings.auto_lock_minutes))?;
        vault.set_setting(RETENTION_SETTING, &json(settings.retention_days))?;
        drop(vault);
        // A shorter period applies at once, not at the next start.
        self.apply_retention_at(hearth_vault::now_ms())?;
        Ok(settings)
    }

    /// Deletes the conversations the retention setting says to (none when it is off).
    /// Runs when the vault opens and, in a long-running app, about daily. Returns how
    /// many conversations went.
    pub fn apply_retention(&self) -> Result<usize> {
        self.apply_retention_at(hearth_vault::now_ms())
    }

    /// [`Engine::apply_retention`] as if the time were `now_ms`.
    pub fn apply_retention_at(&self, now_ms: i64) -> Result<usize> {
        let Some(days) = self.settings()?.retention_days else {
            return Ok(0);
        };
        let vault = self.vault()?;
        let deleted = vault.delete_untouched_since(now_ms - i64::from(days) * DAY_MS)?;
        vault.set_setting(RETENTION_LAST_RUN, &serde_json::Value::from(now_ms))?;
        if deleted > 0 {
            tracing::info!(deleted, days, "retention deleted old conversations");
        }
        Ok(deleted)
    }

    /// Whether a day has passed since retention last ran (for a long-running app's timer).
    pub fn retention_due(&self, now_ms: i64) -> Result<bool> {
        if self.settings()?.retention_days.is_none() {
            return Ok(false);
        }
        let last = self
            .vault()?
            .setting(RETENTION_LAST_RUN)?
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        Ok(now_ms - last >= DAY_MS)
    }
}
