// App preferences kept in the vault: the idle auto-lock and how long conversations are kept.

import * as ipc from './ipc'
import type { ConversationSummaryDto, SettingsDto } from './types'

/** The auto-lock choices the security settings offer, in minutes (null is off). */
export const AUTO_LOCK_CHOICES: ReadonlyArray<number | null> = [null, 5, 15, 30, 60]

/** The retention periods offered besides Off and a number of your own, in days. */
export const RETENTION_CHOICES: readonly number[] = [30, 90, 180, 365]

/** The retention periods the engine accepts, in days. */
export const RETENTION_MIN_DAYS = 1
export const RETENTION_MAX_DAYS = 36_500

const DAY_MS = 86_400_000

/** Why `days` cannot be the retention period, or null when it can (null is off). */
export function retentionProblem(days: number | null): string | null {
  if (days === null) return null
  if (!Number.isInteger(days) || days < RETENTION_MIN_DAYS || days > RETENTION_MAX_DAYS) {
    return `Enter a whole number of days from ${RETENTION_MIN_DAYS} to ${RETENTION_MAX_DAYS.toLocaleString('en-US')}.`
  }
  return null
}

/**
 * Whether changing the period from `before` to `after` can delete conversations at once:
 * turning it on, or making it shorter.
 */
export function retentionShortens(before: number | null, after: number | null): boolean {
  return after !== null && (before === null || after < before)
}

/**
 * The conversations among `items` a period of `days` deletes now: not pinned, and not
 * touched for longer than that.
 */
export function expiredConversations(
  items: readonly ConversationSummaryDto[],
  days: number,
  now: number = Date.now(),
): ConversationSummaryDto[] {
  const cutoff = now - days * DAY_MS
  return items.filter((c) => !c.pinned && c.updatedAt < cutoff)
}

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

  /**
   * Saves the retention period (null keeps everything). The engine applies it at once, so a
   * shorter period deletes conversations before this returns. Throws what the engine said.
   */
  async setRetention(days: number | null): Promise<void> {
    const problem = retentionProblem(days)
    if (problem !== null) throw new ipc.HearthError('Invalid', problem)
    this.settings = await ipc.setSettings({ ...this.settings, retentionDays: days })
    this.error = null
    this.changed(this.settings)
  }

  reset(): void {
    this.settings = { autoLockMinutes: null, retentionDays: null }
    this.loaded = false
    this.error = null
  }
}
