// Settings → Security mounted whole against a fake Rust side: the protection in plain
// words, the changes offered (never one that leaves no way in), what each sends, errors in
// the engine's words, and replacing the data key with its progress.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import App from './App.svelte'
import { Hearth } from './lib/app.svelte'
import { offeredActions } from './lib/security.svelte'
import type { ProtectionDto, RotationProgressDto, VaultStatusDto } from './lib/types'
import { commandError, deferred, fakeBackend, resetBackend, settle, type Call, type FakeBackend } from './test/backend'
import { provider } from './test/fixtures'
import { click, hook, need, type, until } from './test/dom'
import type { Channel } from '@tauri-apps/api/core'

let app: ReturnType<typeof mount> | null = null
let backend: FakeBackend
let protection: ProtectionDto

function mode(p: ProtectionDto): string {
  return p.keychain && p.passphrase ? 'keychain+passphrase' : p.keychain ? 'keychain' : 'passphrase'
}

function status(): VaultStatusDto {
  return {
    state: 'unlocked',
    mode: mode(protection),
    dataDir: '/home/me/.local/share/hearth',
    conversations: 0,
    messages: 0,
    keychainAvailable: true,
  }
}

function securityBackend(start: ProtectionDto) {
  protection = { ...start }
  return fakeBackend({
    vault_status: () => status(),
    vault_lock: () => null,
    get_settings: () => ({ autoLockMinutes: null }),
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })],
    list_unfiled_conversations: () => [],
    get_protection: () => ({ ...protection }),
    set_protection: ({ keychain, passphrase }) => {
      protection = {
        ...protection,
        keychain,
        passphrase: passphrase.action === 'keep' ? protection.passphrase : passphrase.action === 'set',
      }
      return { ...protection }
    },
  })
}

async function openSecurity(start: ProtectionDto): Promise<void> {
  backend = securityBackend(start)
  app = mount(App, { target: document.body, props: { hearth: new Hearth() } })
  flushSync()
  await settle()
  click(await until(() => hook('settings')))
  click(need('settings-tab-security'))
  await until(() => hook('protection-summary'), 'the protection summary')
}

const ACTIONS = ['changePassphrase', 'addPassphrase', 'removePassphrase', 'keychainOn', 'keychainOff']

/** The hooks of the change buttons shown, in order. */
function offered(): string[] {
  return ACTIONS.map((a) => `protection-${a}`)
    .map((id) => hook(id))
    .filter((b): b is HTMLElement => b !== null)
    .sort((x, y) => (x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1))
    .map((b) => b.dataset.testid ?? '')
}

beforeEach(() => {
  document.body.innerHTML = ''
})

afterEach(() => {
  if (app !== null) unmount(app)
  app = null
  resetBackend()
})

describe('what is offered', () => {
  it('never offers removing the last way in', () => {
    for (const keychain of [true, false]) {
      for (const passphrase of [true, false]) {
        if (!keychain && !passphrase) continue
        for (const keychainAvailable of [true, false]) {
          const actions = offeredActions({ keychain, passphrase, keychainAvailable })
          if (!keychain) expect(actions).not.toContain('removePassphrase')
          if (!passphrase) expect(actions).not.toContain('keychainOff')
          if (!keychainAvailable && !keychain) expect(actions).not.toContain('keychainOn')
        }
      }
    }
  })
})

describe('Settings → Security', () => {
  it('says a passphrase-only vault cannot be recovered without it, and changes the passphrase', async () => {
    await openSecurity({ keychain: false, passphrase: true, keychainAvailable: true })
    expect(need('protection-summary').textContent).toContain('only with your passphrase')
    expect(need('protection-summary').textContent).toContain('cannot be recovered')
    expect(offered()).toEqual(['protection-changePassphrase', 'protection-keychainOn'])

    click(need('protection-changePassphrase'))
    type(need('current-passphrase'), 'the old passphrase')
    type(need('new-passphrase'), 'short')
    type(need('confirm-passphrase'), 'short')
    click(need('protection-submit'))
    await settle()
    expect(need('protection-problem').textContent).toContain('at least 8')
    type(need('new-passphrase'), 'a brand new passphrase')
    type(need('confirm-passphrase'), 'a brand new passphrase!')
    click(need('protection-submit'))
    await settle()
    expect(need('protection-problem').textContent).toContain('do not match')
    expect(backend.called('set_protection')).toEqual([])

    type(need('confirm-passphrase'), 'a brand new passphrase')
    click(need('protection-submit'))
    await until(() => hook('protection-done'), 'the change to finish')
    expect(backend.called('set_protection')[0].args).toEqual({
      current: 'the old passphrase',
      keychain: false,
      passphrase: { action: 'set', passphrase: 'a brand new passphrase' },
    })
    expect(need('protection-done').textContent).toContain('only the new one works')
    expect(hook('protection-form')).toBeNull()
  })

  it('shows the engine\'s words when the current passphrase is wrong, and changes nothing', async () => {
    await openSecurity({ keychain: false, passphrase: true, keychainAvailable: true })
    backend.handlers.set_protection = () => {
      throw commandError('WrongPassphrase', 'wrong passphrase for this vault; nothing was changed')
    }
    click(need('protection-keychainOn'))
    expect(need('protection-form').textContent).toContain('Your passphrase keeps working')
    type(need('current-passphrase'), 'not it')
    click(need('protection-submit'))
    await until(() => hook('protection-error'), 'the error')
    expect(need('protection-error').textContent).toBe('wrong passphrase for this vault; nothing was changed')
    expect(hook('protection-form')).not.toBeNull()
    expect(need('protection-summary').textContent).toContain('only with your passphrase')
  })

  it('turns the keychain off with the passphrase, explaining what that means, then offers no removal', async () => {
    await openSecurity({ keychain: true, passphrase: true, keychainAvailable: true })
    expect(need('protection-summary').textContent).toContain('Either one is enough')
    expect(offered()).toEqual(['protection-changePassphrase', 'protection-removePassphrase', 'protection-keychainOff'])
    click(need('protection-keychainOff'))
    expect(need('protection-form').textContent).toContain(
      'Without the keychain, only your passphrase opens Hearth; if you forget it, your conversations cannot be recovered.',
    )
    type(need('current-passphrase'), 'the passphrase')
    click(need('protection-submit'))
    await until(() => hook('protection-done'), 'the change to finish')
    expect(backend.called('set_protection')[0].args).toEqual({
      current: 'the passphrase',
      keychain: false,
      passphrase: { action: 'keep' },
    })
    expect(offered()).toEqual(['protection-changePassphrase', 'protection-keychainOn'])
    // The rest of the app hears of the new mode.
    await until(() => backend.called('vault_status').length >= 2, 'the status to be read again')
  })

  it('adds a passphrase to a keychain vault without asking for one it does not have', async () => {
    await openSecurity({ keychain: true, passphrase: false, keychainAvailable: true })
    expect(offered()).toEqual(['protection-addPassphrase'])
    click(need('protection-addPassphrase'))
    expect(hook('current-passphrase')).toBeNull()
    type(need('new-passphrase'), 'my second way in')
    type(need('confirm-passphrase'), 'my second way in')
    click(need('protection-submit'))
    await until(() => hook('protection-done'), 'the change to finish')
    expect(backend.called('set_protection')[0].args).toEqual({
      keychain: true,
      passphrase: { action: 'set', passphrase: 'my second way in' },
    })
  })

  it('says when there is no keychain to turn on', async () => {
    await openSecurity({ keychain: false, passphrase: true, keychainAvailable: false })
    expect(offered()).toEqual(['protection-changePassphrase'])
    expect(need('protection').textContent).toContain('No system keychain answers')
  })

  it('replaces the data key with a progress bar, and shows a refusal in the engine\'s words', async () => {
    await openSecurity({ keychain: false, passphrase: true, keychainAvailable: true })
    const rotation = deferred<null>()
    let call: Call | null = null
    backend.handlers.rotate_data_key = (args) => {
      call = { command: 'rotate_data_key', args }
      return rotation.promise
    }
    const form = need('rotate-key')
    expect(form.textContent).toContain('the old one opens nothing')
    click(need('rotate-key-submit'))
    await settle()
    expect(backend.called('rotate_data_key')).toEqual([])
    type(need('rotate-passphrase'), 'the passphrase')
    click(need('rotate-key-submit'))
    await until(() => call, 'the rotation to start')
    const channel = call!.args.onProgress as Channel<RotationProgressDto>
    expect(call!.args.passphrase).toBe('the passphrase')
    expect(need('rotate-key-submit').hasAttribute('disabled')).toBe(true)
    channel.onmessage({ step: 'prepared' })
    channel.onmessage({ step: 'copying', done: 0, total: 400 })
    flushSync()
    const bar = need('rotation-progress') as HTMLProgressElement
    expect(bar.value).toBeCloseTo(0.15)
    expect(need('rotation-status').textContent).toContain('Re-encrypting')
    channel.onmessage({ step: 'copying', done: 400, total: 400 })
    channel.onmessage({ step: 'swapped' })
    flushSync()
    expect(bar.value).toBeCloseTo(0.9)
    channel.onmessage({ step: 'finished' })
    rotation.resolve(null)
    await settle()
    expect((need('rotation-progress') as HTMLProgressElement).value).toBe(1)
    expect(need('rotation-status').textContent).toContain('old key no longer opens anything')

    backend.handlers.rotate_data_key = () => {
      throw commandError('Invalid', 'the vault is open in another Hearth (the app, or another command); close it and try again')
    }
    type(need('rotate-passphrase'), 'the passphrase')
    click(need('rotate-key-submit'))
    await until(() => hook('rotation-error'), 'the refusal')
    expect(need('rotation-error').textContent).toBe(
      'the vault is open in another Hearth (the app, or another command); close it and try again',
    )
    expect(hook('rotation-progress')).toBeNull()
  })
})
