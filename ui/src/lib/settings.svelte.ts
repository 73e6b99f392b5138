// App preferences kept in the vault (today: the idle auto-lock).

import * as ipc from './ipc'
import type { SettingsDto } from './types'

/** The auto-lock choices the security settings offer, in minutes (null is off). */
export const AUTO_LOCK_CHOICES: ReadonlyArray<number | null> = [null, 5, 15, 30, 60]

export class SettingsStore {
  settings = $state<SettingsDto>({ autoLockMinutes: null, retentionDays: null })
  loaded = $state(false)
  error = $state<string | null>(null)

  constructor(private readonly changed: (settings: SettingsDto) => void = () => {}) {}

  async load(): Promise<void> {
    try {
      this.settings = await ipc.getSettings()
      this.loaded = true
      this.error = null
      this.changed(this.settings)
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
    }
  }

  async setAutoLock(minutes: number | null): Promise<void> {
    try {
      this.settings = await ipc.setSettings({ ...this.settings, autoLockMinutes: minutes })
      this.error = null
      this.changed(this.settings)
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
    }
  }

  reset(): void {
    this.settings = { autoLockMinutes: null, retentionDays: null }
    this.loaded = false
    this.error = null
  }
}
