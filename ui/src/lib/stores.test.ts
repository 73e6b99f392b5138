// The sidebar list, search, vault, providers and settings stores against a fake backend.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { commandError, deferred, fakeBackend, resetBackend, settle } from '../test/backend'
import { provider, summary } from '../test/fixtures'
import { ConversationListStore } from './conversations.svelte'
import { HearthError, onLocked, toHearthError, vaultStatus } from './ipc'
import { ProvidersStore } from './providers.svelte'
import { SearchStore } from './search.svelte'
import { SettingsStore } from './settings.svelte'
import type { ConversationSummaryDto, SearchHitDto, VaultStatusDto } from './types'
import { VaultStore } from './vault.svelte'

afterEach(() => {
  resetBackend()
  onLocked(null)
})

describe('errors from commands', () => {
  it('keeps the kind and message of a CommandError', () => {
    const error = toHearthError({ kind: 'WrongPassphrase', message: 'That passphrase is not right.' })
    expect(error).toBeInstanceOf(HearthError)
    expect([error.kind, error.message]).toEqual(['WrongPassphrase', 'That passphrase is not right.'])
  })

  it('turns anything else into an Internal error with a readable message', () => {
    expect(toHearthError('command not allowed').message).toBe('command not allowed')
    expect(toHearthError(new Error('boom'))).toMatchObject({ kind: 'Internal', message: 'boom' })
    expect(toHearthError({ kind: 'Nonsense', message: 'x' }).kind).toBe('Internal')
    expect(toHearthError(undefined).message).toMatch(/went wrong/)
  })

  it('reports a locked vault from any command', async () => {
    const locked = vi.fn()
    onLocked(locked)
    fakeBackend({
      vault_status: () => {
        throw commandError('Locked', 'the vault is locked; unlock it first')
      },
    })
    await expect(vaultStatus()).rejects.toMatchObject({ kind: 'Locked' })
    expect(locked).toHaveBeenCalledTimes(1)
  })
})

describe('ConversationListStore', () => {
  function pages(total: number): ConversationSummaryDto[] {
    return Array.from({ length: total }, (_, i) => summary(`c${i}`, total - i))
  }

  it('loads pages by offset until a short page says there are no more', async () => {
    const all = pages(250)
    const backend = fakeBackend({
      list_unfiled_conversations: ({ limit, offset }) => all.slice(offset, offset + limit),
    })
    const list = new ConversationListStore(100)
    await list.loadMore()
    await list.loadMore()
    expect(list.items).toHaveLength(200)
    expect(list.hasMore).toBe(true)
    await list.loadMore()
    expect(list.items).toHaveLength(250)
    expect(list.hasMore).toBe(false)
    await list.loadMore()
    expect(backend.called('list_unfiled_conversations').map((c) => c.args.offset)).toEqual([0, 100, 200])
  })

  it('asks for one page at a time', async () => {
    const page = deferred<ConversationSummaryDto[]>()
    const backend = fakeBackend({ list_unfiled_conversations: () => page.promise })
    const list = new ConversationListStore(100)
    const first = list.loadMore()
    void list.loadMore()
    page.resolve(pages(3))
    await first
    expect(backend.called('list_unfiled_conversations')).toHaveLength(1)
  })

  it('throws away a page that arrives after a reset (the vault locked)', async () => {
    const page = deferred<ConversationSummaryDto[]>()
    fakeBackend({ list_unfiled_conversations: () => page.promise })
    const list = new ConversationListStore(100)
    const loading = list.loadMore()
    list.reset()
    page.resolve(pages(3))
    await loading
    expect(list.items).toEqual([])
  })

  it('renames, pins and deletes through the engine and keeps the order', async () => {
    const backend = fakeBackend({
      list_unfiled_conversations: () => [summary('a', 3), summary('b', 2), summary('c', 1)],
      rename_conversation: () => null,
      pin_conversation: () => null,
      delete_conversation: () => null,
    })
    const list = new ConversationListStore(100)
    await list.loadMore()
    await list.rename('b', '  Better title ')
    await list.pin('c', true)
    await list.remove('a')
    expect(backend.called('rename_conversation')[0].args).toEqual({ id: 'b', title: 'Better title' })
    expect(backend.called('pin_conversation')[0].args).toEqual({ id: 'c', pinned: true })
    expect(backend.called('delete_conversation')[0].args).toEqual({ id: 'a' })
    expect(list.items.map((c) => [c.id, c.title, c.pinned])).toEqual([
      ['c', 'Chat c', true],
      ['b', 'Better title', false],
    ])
  })

  it('keeps the row when the engine refuses a rename', async () => {
    fakeBackend({
      list_unfiled_conversations: () => [summary('a', 3)],
      rename_conversation: () => {
        throw commandError('Invalid', 'too long')
      },
    })
    const list = new ConversationListStore(100)
    await list.loadMore()
    await expect(list.rename('a', 'x')).rejects.toMatchObject({ kind: 'Invalid' })
    expect(list.items[0].title).toBe('Chat a')
  })
})

describe('SearchStore', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  const hit = (conversationId: string): SearchHitDto => ({
    conversationId,
    messageId: 'm',
    role: 'user',
    snippet: 'giraffes',
    highlights: [[0, 8]],
    archived: false,
    title: 'Giraffes',
  })

  it('asks once typing pauses for 150 ms, with the latest query', async () => {
    const backend = fakeBackend({ search_conversations: ({ query }) => [hit(query)] })
    const search = new SearchStore()
    search.setQuery('g')
    vi.advanceTimersByTime(100)
    search.setQuery('gi')
    vi.advanceTimersByTime(100)
    search.setQuery('gir')
    expect(search.searching).toBe(true)
    vi.advanceTimersByTime(149)
    expect(backend.called('search_conversations')).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(backend.called('search_conversations').map((c) => c.args)).toEqual([{ query: 'gir', limit: 50 }])
    expect(search.hits.map((h) => h.conversationId)).toEqual(['gir'])
    expect(search.searching).toBe(false)
  })

  it('drops an answer that arrives after a newer query was sent', async () => {
    const answers: Record<string, ReturnType<typeof deferred<SearchHitDto[]>>> = {
      old: deferred(),
      new: deferred(),
    }
    fakeBackend({ search_conversations: ({ query }) => answers[query].promise })
    const search = new SearchStore()
    search.setQuery('old')
    await vi.advanceTimersByTimeAsync(150)
    search.setQuery('new')
    await vi.advanceTimersByTimeAsync(150)
    answers.new.resolve([hit('fresh')])
    await vi.advanceTimersByTimeAsync(0)
    answers.old.resolve([hit('stale')])
    await vi.advanceTimersByTimeAsync(0)
    expect(search.hits.map((h) => h.conversationId)).toEqual(['fresh'])
    expect(search.answered).toBe('new')
  })

  it('clears at once when the box is emptied, ignoring a search in flight', async () => {
    const answer = deferred<SearchHitDto[]>()
    fakeBackend({ search_conversations: () => answer.promise })
    const search = new SearchStore()
    search.setQuery('zebra')
    await vi.advanceTimersByTimeAsync(150)
    search.setQuery('  ')
    expect(search.active).toBe(false)
    answer.resolve([hit('late')])
    await vi.advanceTimersByTimeAsync(0)
    expect(search.hits).toEqual([])
    expect(search.searching).toBe(false)
  })

  it('shows what went wrong', async () => {
    fakeBackend({
      search_conversations: () => {
        throw commandError('Internal', 'The search index is damaged.')
      },
    })
    const search = new SearchStore()
    search.setQuery('x')
    await vi.advanceTimersByTimeAsync(150)
    expect(search.error).toBe('The search index is damaged.')
  })
})

describe('VaultStore', () => {
  const status = (changes: Partial<VaultStatusDto>): VaultStatusDto => ({
    state: 'locked',
    mode: 'passphrase',
    dataDir: '/home/me/.local/share/hearth',
    conversations: null,
    messages: null,
    keychainAvailable: true,
    ...changes,
  })

  function store() {
    const hooks = { unlocked: vi.fn(), locked: vi.fn() }
    return { hooks, vault: new VaultStore(hooks) }
  }

  it('starts at setup when there is no vault', async () => {
    fakeBackend({ vault_status: () => status({ state: 'notCreated', mode: null }) })
    const { vault } = store()
    await vault.start()
    expect(vault.screen).toBe('setup')
  })

  it('unlocks a keychain vault by itself at start', async () => {
    let state: VaultStatusDto['state'] = 'locked'
    const backend = fakeBackend({
      vault_status: () => status({ state, mode: 'keychain' }),
      vault_unlock: () => {
        state = 'unlocked'
        return null
      },
    })
    const { vault, hooks } = store()
    await vault.start()
    expect(backend.called('vault_unlock')[0].args).toEqual({})
    expect(vault.screen).toBe('main')
    expect(hooks.unlocked).toHaveBeenCalledTimes(1)
  })

  it('shows the unlock screen with the reason when the keychain fails at start', async () => {
    fakeBackend({
      vault_status: () => status({ mode: 'keychain' }),
      vault_unlock: () => {
        throw commandError('KeychainUnavailable', 'The system keychain did not answer.')
      },
    })
    const { vault } = store()
    await vault.start()
    expect(vault.screen).toBe('unlock')
    expect(vault.error).toBe('The system keychain did not answer.')
  })

  it('asks a passphrase vault for its passphrase without trying the keychain', async () => {
    const backend = fakeBackend({ vault_status: () => status({ mode: 'passphrase' }) })
    const { vault } = store()
    await vault.start()
    expect(vault.screen).toBe('unlock')
    expect(vault.error).toBeNull()
    expect(backend.called('vault_unlock')).toHaveLength(0)
  })

  it('keeps the unlock screen with the error on a wrong passphrase, then opens', async () => {
    const backend = fakeBackend({
      vault_status: () => status({}),
      vault_unlock: ({ passphrase }) => {
        if (passphrase !== 'correct horse') throw commandError('WrongPassphrase', 'That passphrase does not unlock this vault.')
        return null
      },
    })
    const { vault, hooks } = store()
    await vault.start()
    expect(await vault.unlock('wrong guess')).toBe(false)
    expect(vault.screen).toBe('unlock')
    expect(vault.error).toMatch(/does not unlock/)
    expect(await vault.unlock('correct horse')).toBe(true)
    expect(vault.screen).toBe('main')
    expect(vault.error).toBeNull()
    expect(hooks.unlocked).toHaveBeenCalledTimes(1)
    expect(backend.called('vault_unlock').map((c) => c.args)).toEqual([
      { passphrase: 'wrong guess' },
      { passphrase: 'correct horse' },
    ])
  })

  it('is busy while a vault is created, then opens', async () => {
    const created = deferred<null>()
    const backend = fakeBackend({
      vault_status: () => status({ state: 'notCreated', mode: null }),
      vault_create: () => created.promise,
    })
    const { vault } = store()
    await vault.start()
    const creating = vault.create('passphrase', 'correct horse')
    expect(vault.busy).toBe(true)
    expect(await vault.create('keychain')).toBe(false)
    created.resolve(null)
    expect(await creating).toBe(true)
    expect(vault.busy).toBe(false)
    expect(vault.screen).toBe('main')
    expect(backend.called('vault_create').map((c) => c.args)).toEqual([
      { protection: 'passphrase', passphrase: 'correct horse' },
    ])
  })

  it('locks: forgets what was shown and goes to the unlock screen', async () => {
    const backend = fakeBackend({ vault_status: () => status({ state: 'unlocked' }), vault_lock: () => null })
    const { vault, hooks } = store()
    await vault.start()
    await vault.lock()
    expect(backend.called('vault_lock')).toHaveLength(1)
    expect(hooks.locked).toHaveBeenCalledTimes(1)
    expect(vault.screen).toBe('unlock')
  })
})

describe('ProvidersStore', () => {
  it('saves only what changed, then the key, and shows only its hint', async () => {
    const backend = fakeBackend({
      list_providers: () => [provider('openai'), provider('groq', { isDefault: true })],
      set_provider: ({ change }) => provider(change.id, { baseUrl: change.baseUrl ?? 'https://openai.example/v1' }),
      set_api_key: () => '…abcd',
    })
    const providers = new ProvidersStore()
    await providers.load()
    const saved = await providers.save('openai', {
      baseUrl: ' http://127.0.0.1:9/v1 ',
      makeDefault: true,
      key: 'sk-secret-abcd',
    })
    expect(backend.called('set_provider')[0].args).toEqual({
      change: { id: 'openai', baseUrl: 'http://127.0.0.1:9/v1', makeDefault: true },
    })
    expect(backend.called('set_api_key')[0].args).toEqual({ providerId: 'openai', key: 'sk-secret-abcd' })
    expect(saved.keyHint).toBe('…abcd')
    expect(providers.list.map((p) => [p.id, p.isDefault, p.keyHint])).toEqual([
      ['openai', true, '…abcd'],
      ['groq', false, null],
    ])
    expect(JSON.stringify(providers.list)).not.toContain('sk-secret')
  })

  it('does not touch the key when none was typed', async () => {
    const backend = fakeBackend({
      list_providers: () => [provider('openai', { keyHint: '…wxyz' })],
      set_provider: ({ change }) => provider(change.id, { keyHint: '…wxyz', defaultModel: change.defaultModel }),
    })
    const providers = new ProvidersStore()
    await providers.load()
    await providers.save('openai', { defaultModel: 'gpt-5', key: '   ' })
    expect(backend.called('set_api_key')).toHaveLength(0)
    expect(providers.find('openai')?.defaultModel).toBe('gpt-5')
  })

  it('fetches a model list once, again when forced, and forgets it when the key goes', async () => {
    const backend = fakeBackend({
      list_providers: () => [provider('ollama', { local: true })],
      list_models: () => [{ id: 'llama3', name: null }],
      remove_api_key: () => true,
    })
    const providers = new ProvidersStore()
    await providers.load()
    await Promise.all([providers.loadModels('ollama'), providers.loadModels('ollama')])
    await providers.loadModels('ollama')
    expect(backend.called('list_models')).toHaveLength(1)
    await providers.loadModels('ollama', { force: true })
    expect(backend.called('list_models')).toHaveLength(2)
    await providers.removeKey('ollama')
    expect(providers.models.ollama).toBeUndefined()
  })

  it('reports a failed connection test as the engine worded it', async () => {
    fakeBackend({
      list_models: () => {
        throw commandError('ProviderAuth', 'OpenAI refused the API key (401).')
      },
    })
    const providers = new ProvidersStore()
    await expect(providers.loadModels('openai')).rejects.toMatchObject({ message: 'OpenAI refused the API key (401).' })
    // A failed fetch is not cached: the next try asks again.
    await expect(providers.loadModels('openai')).rejects.toBeInstanceOf(HearthError)
  })
})

describe('SettingsStore', () => {
  it('loads and saves the auto-lock, telling the idle timer each time', async () => {
    const backend = fakeBackend({
      get_settings: () => ({ autoLockMinutes: 15 }),
      set_settings: ({ settings }) => settings,
    })
    const changed = vi.fn()
    const settings = new SettingsStore(changed)
    await settings.load()
    await settings.setAutoLock(null)
    await settle()
    expect(backend.called('set_settings')[0].args).toEqual({ settings: { autoLockMinutes: null } })
    expect(changed.mock.calls.map(([s]) => s.autoLockMinutes)).toEqual([15, null])
  })
})
