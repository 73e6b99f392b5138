// What unlocks the vault, and changing it: the passphrase changed, added or removed, the
// keychain turned on or off, and the data key replaced. The choices offered never remove
// the last way in (the engine refuses that too); errors are shown in the engine's words.

import * as ipc from './ipc'
import type { PassphraseChangeDto, ProtectionDto, RotationProgressDto } from './types'

/** A change of protection the user can pick. */
export type ProtectionAction =
  | 'changePassphrase'
  | 'addPassphrase'
  | 'removePassphrase'
  | 'keychainOn'
  | 'keychainOff'

/** The changes that make sense from `protection`, none of which leaves no way in. */
export function offeredActions(protection: ProtectionDto): ProtectionAction[] {
  const { keychain, passphrase, keychainAvailable } = protection
  const actions: ProtectionAction[] = []
  if (passphrase) actions.push('changePassphrase')
  else actions.push('addPassphrase')
  // Each removal only when the other way stays.
  if (passphrase && keychain) actions.push('removePassphrase', 'keychainOff')
  if (!keychain && keychainAvailable) actions.push('keychainOn')
  return actions
}

/** The current protection in plain words. */
export function describeProtection(protection: ProtectionDto): string {
  if (protection.keychain && protection.passphrase) {
    return 'Hearth opens with the key kept in your system keychain, or with your passphrase. Either one is enough.'
  }
  if (protection.keychain) {
    return 'Hearth opens with the key kept in your system keychain, without asking: anyone signed in to your account on this computer can open it. If the keychain entry is lost (a new computer, a reset account), your conversations cannot be recovered.'
  }
  return 'Hearth opens only with your passphrase. If you forget it, your conversations cannot be recovered.'
}

/** The button's words for `action`. */
export const ACTION_LABELS: Record<ProtectionAction, string> = {
  changePassphrase: 'Change passphrase',
  addPassphrase: 'Add a passphrase',
  removePassphrase: 'Remove the passphrase',
  keychainOn: 'Keep the key in the keychain',
  keychainOff: 'Stop using the keychain',
}

/** What `action` means for the user, said before they confirm it. */
export const ACTION_EXPLANATIONS: Record<ProtectionAction, string> = {
  changePassphrase:
    'The old passphrase stops working at once. Hearth cannot remind you of the new one: keep it somewhere safe.',
  addPassphrase:
    'A passphrase is a second way in: if the keychain entry is ever lost, the passphrase still opens Hearth. Hearth cannot remind you of it.',
  removePassphrase:
    'Then only the system keychain opens Hearth. If the keychain entry is lost, your conversations cannot be recovered.',
  keychainOn:
    'Hearth then opens without asking for anyone signed in to your account on this computer. Your passphrase keeps working.',
  keychainOff:
    'Without the keychain, only your passphrase opens Hearth; if you forget it, your conversations cannot be recovered. The key is removed from the keychain.',
}

/** What the user is told once `action` has been done. */
export const ACTION_DONE: Record<ProtectionAction, string> = {
  changePassphrase: 'Passphrase changed: from now on only the new one works.',
  addPassphrase: 'Passphrase added: it now opens Hearth too.',
  removePassphrase: 'Passphrase removed: the system keychain alone opens Hearth now.',
  keychainOn: 'The key is now kept in the system keychain too.',
  keychainOff: 'The key was removed from the keychain: only your passphrase opens Hearth now.',
}

/** Whether `action` asks for a new passphrase (typed twice). */
export function needsNewPassphrase(action: ProtectionAction): boolean {
  return action === 'changePassphrase' || action === 'addPassphrase'
}

/** What `set_protection` is asked for, to do `action` from `protection`. */
export function changeFor(
  action: ProtectionAction,
  protection: ProtectionDto,
  newPassphrase: string,
): { keychain: boolean; passphrase: PassphraseChangeDto } {
  switch (action) {
    case 'changePassphrase':
    case 'addPassphrase':
      return { keychain: protection.keychain, passphrase: { action: 'set', passphrase: newPassphrase } }
    case 'removePassphrase':
      return { keychain: protection.keychain, passphrase: { action: 'remove' } }
    case 'keychainOn':
      return { keychain: true, passphrase: { action: 'keep' } }
    case 'keychainOff':
      return { keychain: false, passphrase: { action: 'keep' } }
  }
}

/** How far a rotation has got, as a fraction for the bar and words for the user. */
export function rotationProgress(step: RotationProgressDto): { fraction: number; label: string } {
  switch (step.step) {
    case 'prepared':
      return { fraction: 0.1, label: 'Made a new key…' }
    case 'copying': {
      const part = step.total > 0 ? step.done / step.total : 0
      return { fraction: 0.15 + 0.7 * part, label: part >= 1 ? 'Checking the re-encrypted copy…' : 'Re-encrypting every page…' }
    }
    case 'swapped':
      return { fraction: 0.9, label: 'Putting the new file in place…' }
    case 'finished':
      return { fraction: 1, label: 'Done: the old key no longer opens anything.' }
  }
}

export class SecurityStore {
  protection = $state<ProtectionDto | null>(null)
  /** A change or a rotation is running. */
  busy = $state(false)
  /** What went wrong last, in the engine's words. */
  error = $state<string | null>(null)
  /** What the last successful change did, for the user. */
  done = $state<string | null>(null)
  /** What went wrong with the last rotation, in the engine's words. */
  rotationError = $state<string | null>(null)
  /** A rotation is running. */
  rotating = $state(false)
  /** The last step the running (or finished) rotation reported, null before the first. */
  rotation = $state<RotationProgressDto | null>(null)

  /** Called after every change, so the rest of the app sees the new mode. */
  constructor(private readonly changed: () => void | Promise<void> = () => {}) {}

  async load(): Promise<void> {
    try {
      this.protection = await ipc.getProtection()
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
    }
  }

  /** Does `action`; `current` is the passphrase now (when the vault has one). */
  async apply(action: ProtectionAction, current: string, newPassphrase: string): Promise<boolean> {
    if (this.busy || this.protection === null) return false
    this.busy = true
    this.error = null
    this.done = null
    try {
      const change = changeFor(action, this.protection, newPassphrase)
      this.protection = await ipc.setProtection({
        current: this.protection.passphrase ? current : undefined,
        ...change,
      })
      this.done = ACTION_DONE[action]
      await this.changed()
      return true
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
      return false
    } finally {
      this.busy = false
    }
  }

  /** Replaces the data key; `passphrase` is needed when the vault has one. */
  async rotate(passphrase: string): Promise<boolean> {
    if (this.busy || this.protection === null) return false
    this.busy = true
    this.rotationError = null
    this.done = null
    this.rotating = true
    this.rotation = null
    try {
      await ipc.rotateDataKey(this.protection.passphrase ? passphrase : undefined, (step) => {
        this.rotation = step
      })
      this.rotation = { step: 'finished' }
      return true
    } catch (raw) {
      this.rotation = null
      this.rotationError = ipc.toHearthError(raw).message
      return false
    } finally {
      this.busy = false
      this.rotating = false
    }
  }

  /** Forgets everything (the vault was locked). */
  reset(): void {
    this.protection = null
    this.error = null
    this.rotationError = null
    this.done = null
    this.rotation = null
  }
}
