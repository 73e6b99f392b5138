// What a new passphrase must satisfy before the vault is created with it.

/** The shortest passphrase accepted (the engine enforces the same floor). */
export const MIN_PASSPHRASE_CHARS = 8

/** Why `passphrase` and its confirmation cannot be used, or null when they can. */
export function passphraseProblem(passphrase: string, confirmation: string): string | null {
  // Counted in characters as people see them, not UTF-16 units.
  if (Array.from(passphrase).length < MIN_PASSPHRASE_CHARS) {
    return `Use at least ${MIN_PASSPHRASE_CHARS} characters.`
  }
  if (passphrase.trim() === '') return 'A passphrase cannot be only spaces.'
  if (passphrase !== confirmation) return 'The two passphrases do not match.'
  return null
}

/** Whether a vault mode (from vault_status) unlocks with a passphrase / from the keychain. */
export function modeUses(mode: string | null): { passphrase: boolean; keychain: boolean } {
  const parts = (mode ?? '').split('+')
  return { passphrase: parts.includes('passphrase'), keychain: parts.includes('keychain') }
}
