// Which screen the app is on, and the vault calls that move between them: first-run
// setup, unlock (automatic for keychain vaults at start), lock.

import * as ipc from './ipc'
import { modeUses } from './passphrase'
import type { EraseResultDto, Protection, VaultStatusDto } from './types'

export type Screen = 'loading' | 'setup' | 'unlock' | 'main' | 'failed'

export interface VaultHooks {
  /** The vault just opened: load what the main screen shows. */
  unlocked(): void | Promise<void>
  /** The vault just closed: forget everything read from it. */
  locked(): void
}

export class VaultStore {
  screen = $state<Screen>('loading')
  status = $state<VaultStatusDto | null>(null)
  /** A create or unlock is running (Argon2 takes a second or two). */
  busy = $state(false)
  /** What went wrong with the last create or unlock, in the engine's words. */
  error = $state<string | null>(null)
  /**
   * Keychain entries the last erase kept (the folder was a copy of another vault's), so
   * first-run setup can say so and how to remove them; null when it kept nothing.
   */
  keptAfterErase = $state<EraseResultDto | null>(null)

  constructor(private readonly hooks: VaultHooks) {}

  /** Whether the vault unlocks with a passphrase and/or from the keychain. */
  get unlocksWith(): { passphrase: boolean; keychain: boolean } {
    return modeUses(this.status?.mode ?? null)
  }

  /** At launch: find the vault and open the right screen; keychain vaults unlock by themselves. */
  async start(): Promise<void> {
    this.screen = 'loading'
    try {
      this.status = await ipc.vaultStatus()
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
      this.screen = 'failed'
      return
    }
    switch (this.status.state) {
      case 'notCreated':
        this.screen = 'setup'
        return
      case 'unlocked':
        await this.enterMain()
        return
      case 'locked':
        if (this.unlocksWith.keychain && (await this.unlock(undefined, { quiet: true }))) return
        this.screen = 'unlock'
    }
  }

  /** Creates the vault; the app opens on success. */
  async create(protection: Protection, passphrase?: string): Promise<boolean> {
    if (this.busy) return false
    this.busy = true
    this.error = null
    try {
      await ipc.vaultCreate(protection, passphrase)
      this.keptAfterErase = null
      await this.refreshStatus()
      await this.enterMain()
      return true
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
      return false
    } finally {
      this.busy = false
    }
  }

  /**
   * Unlocks with `passphrase`, or from the keychain without one. `quiet` keeps a failed
   * keychain attempt at launch from greeting the user with an error they did not cause,
   * unless it says something they can act on.
   */
  async unlock(passphrase?: string, { quiet = false } = {}): Promise<boolean> {
    if (this.busy) return false
    this.busy = true
    this.error = null
    try {
      await ipc.vaultUnlock(passphrase)
      await this.refreshStatus()
      await this.enterMain()
      return true
    } catch (raw) {
      const error = ipc.toHearthError(raw)
      if (!quiet || error.kind !== 'PassphraseRequired') this.error = error.message
      return false
    } finally {
      this.busy = false
    }
  }

  /** Locks the vault and shows the unlock screen. */
  async lock(): Promise<void> {
    this.leaveMain()
    try {
      await ipc.vaultLock()
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
    }
    await this.refreshStatus()
  }

  /** A command found the vault locked (it was locked elsewhere): go to the unlock screen. */
  lockedElsewhere(): void {
    if (this.screen !== 'main') return
    this.leaveMain()
    this.error = 'The vault is locked. Unlock it to continue.'
    void this.refreshStatus()
  }

  /** The vault was erased: forget everything read from it and start over at first-run setup. */
  async erased(result: EraseResultDto): Promise<void> {
    this.keptAfterErase = result.keptKeychainEntries.length > 0 ? result : null
    if (this.screen === 'main') this.leaveMain()
    this.status = null
    this.error = null
    await this.start()
  }

  async refreshStatus(): Promise<void> {
    try {
      this.status = await ipc.vaultStatus()
    } catch {
      // Keep the last status; the screens still work with it.
    }
  }

  private async enterMain(): Promise<void> {
    this.error = null
    this.screen = 'main'
    await this.hooks.unlocked()
  }

  private leaveMain(): void {
    this.screen = 'unlock'
    this.hooks.locked()
  }
}
