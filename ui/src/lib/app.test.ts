// The app's state as a whole: what unlocking loads, what locking forgets, the idle lock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { commandError, fakeBackend, resetBackend, type FakeBackend } from '../test/backend'
import { provider, summary } from '../test/fixtures'
import { Hearth } from './app.svelte'
import type { VaultStatusDto } from './types'

const MINUTE = 60_000
let backend: FakeBackend
let state: VaultStatusDto['state']

beforeEach(() => {
  vi.useFakeTimers()
  state = 'unlocked'
  backend = fakeBackend({
    vault_status: () => ({
      state,
      mode: 'passphrase',
      dataDir: '/data',
      conversations: 1,
      messages: 2,
      keychainAvailable: false,
    }),
    vault_lock: () => {
      state = 'locked'
      return null
    },
    get_settings: () => ({ autoLockMinutes: 5 }),
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true })],
    list_unfiled_conversations: () => [summary('c1', 1, false, 'Secret plans')],
  })
})

afterEach(() => {
  vi.useRealTimers()
  resetBackend()
})

async function started(): Promise<Hearth> {
  const hearth = new Hearth()
  const starting = hearth.start()
  await vi.advanceTimersByTimeAsync(0)
  await starting
  return hearth
}

describe('Hearth', () => {
  it('loads providers, settings and the first page of conversations when the vault opens', async () => {
    const hearth = await started()
    expect(hearth.vault.screen).toBe('main')
    expect(hearth.list.items.map((c) => c.title)).toEqual(['Secret plans'])
    expect(hearth.chat.choice.providerId).toBe('openai')
    expect(hearth.idle.running).toBe(true)
  })

  it('locks after the idle minutes from settings, and forgets what it showed', async () => {
    const hearth = await started()
    await vi.advanceTimersByTimeAsync(4 * MINUTE)
    hearth.idle.activity()
    await vi.advanceTimersByTimeAsync(4 * MINUTE)
    expect(backend.called('vault_lock')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1 * MINUTE)
    expect(backend.called('vault_lock')).toHaveLength(1)
    expect(hearth.vault.screen).toBe('unlock')
    expect(hearth.list.items).toEqual([])
    expect(hearth.providers.list).toEqual([])
    expect(hearth.idle.running).toBe(false)
  })

  it('goes to the unlock screen when any command finds the vault locked', async () => {
    const hearth = await started()
    hearth.openSettings()
    backend.handlers.open_conversation = () => {
      throw commandError('Locked', 'the vault is locked; unlock it first')
    }
    await hearth.openConversation('c1')
    expect(hearth.vault.screen).toBe('unlock')
    expect(hearth.settingsOpen).toBe(false)
    expect(hearth.list.items).toEqual([])
  })
})
