//! App preferences kept inside the encrypted vault (so they say nothing about the user
//! on disk): today the idle auto-lock.

use serde::{Deserialize, Serialize};

use crate::{Engine, EngineError, Result};

const AUTO_LOCK_SETTING: &str = "auto_lock_minutes";

/// The longest idle time the auto-lock accepts: one day.
pub const MAX_AUTO_LOCK_MINUTES: u32 = 24 * 60;

/// Preferences a front end shows and changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Lock the vault after this many idle minutes; `None` never locks by itself.
    pub auto_lock_minutes: Option<u32>,
}

impl Engine {
    /// The current preferences; missing ones take their defaults.
    pub fn settings(&self) -> Result<Settings> {
        let vault = self.vault()?;
        let auto_lock_minutes = match vault.setting(AUTO_LOCK_SETTING)? {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => match value.as_u64().and_then(|m| u32::try_from(m).ok()) {
                Some(minutes) if (1..=MAX_AUTO_LOCK_MINUTES).contains(&minutes) => Some(minutes),
                // A value this build does not understand: fall back to the default
                // rather than refuse to show the settings.
                _ => None,
            },
        };
        Ok(Settings { auto_lock_minutes })
    }

    /// Saves the preferences after checking them.
    pub fn set_settings(&self, settings: Settings) -> Result<Settings> {
        if let Some(minutes) = settings.auto_lock_minutes {
            if !(1..=MAX_AUTO_LOCK_MINUTES).contains(&minutes) {
                return Err(EngineError::Invalid(format!(
                    "auto-lock takes 1 to {MAX_AUTO_LOCK_MINUTES} minutes, not {minutes}"
                )));
            }
        }
        let value = settings
            .auto_lock_minutes
            .map_or(serde_json::Value::Null, serde_json::Value::from);
        self.vault()?.set_setting(AUTO_LOCK_SETTING, &value)?;
        Ok(settings)
    }
}
