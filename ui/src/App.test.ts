// The app mounted whole, against a fake Rust side: the screens, their hooks, and the
// behaviour a user would notice.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import App from './App.svelte'
import { Hearth } from './lib/app.svelte'
import type { ConversationSummaryDto, ConversationViewDto, ProviderDto, VaultStatusDto } from './lib/types'
import { commandError, deferred, emit, fakeBackend, resetBackend, settle, type FakeBackend } from './test/backend'
import { conversation, message, provider, summary } from './test/fixtures'
import { click, hook, hooks, need, press, type, until } from './test/dom'

let app: ReturnType<typeof mount> | null = null
let backend: FakeBackend

function status(changes: Partial<VaultStatusDto> = {}): VaultStatusDto {
  return {
    state: 'unlocked',
    mode: 'passphrase',
    dataDir: '/home/me/.local/share/hearth',
    conversations: 1,
    messages: 2,
    keychainAvailable: true,
    ...changes,
  }
}

/** A backend for an unlocked vault with `conversations` and one usable provider. */
function unlockedBackend(options: {
  conversations?: ConversationSummaryDto[]
  views?: Record<string, ConversationViewDto>
  providers?: ProviderDto[]
} = {}) {
  const conversations = options.conversations ?? [summary('c1', 10, false, 'Zebras')]
  const views = options.views ?? {}
  return fakeBackend({
    vault_status: () => status(),
    vault_lock: () => null,
    get_settings: () => ({ autoLockMinutes: null }),
    set_settings: ({ settings }) => settings,
    get_protection: () => ({ keychain: false, passphrase: true, keychainAvailable: true }),
    list_providers: () =>
      options.providers ?? [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })],
    list_unfiled_conversations: ({ limit, offset }) => conversations.slice(offset, offset + limit),
    open_conversation: ({ id }) => {
      if (views[id] === undefined) throw commandError('NotFound', 'no such conversation')
      return structuredClone(views[id])
    },
    cancel_reply: () => true,
  })
}

async function start(): Promise<Hearth> {
  const hearth = new Hearth()
  app = mount(App, { target: document.body, props: { hearth } })
  flushSync()
  await settle()
  flushSync()
  return hearth
}

beforeEach(() => {
  document.body.innerHTML = ''
})

afterEach(() => {
  if (app !== null) unmount(app)
  app = null
  resetBackend()
})

describe('first run', () => {
  it('offers both choices and explains why the keychain is off when there is none', async () => {
    backend = fakeBackend({ vault_status: () => status({ state: 'notCreated', mode: null, keychainAvailable: false }) })
    await start()
    const keychain = need('setup-keychain') as HTMLButtonElement
    expect(keychain.disabled).toBe(true)
    expect(keychain.textContent).toMatch(/No system keychain is available/)
    expect((need('setup-passphrase') as HTMLButtonElement).disabled).toBe(false)
  })

  it('creates a passphrase vault after checking the two entries match', async () => {
    const created = deferred<null>()
    let state: VaultStatusDto['state'] = 'notCreated'
    backend = unlockedBackend({ providers: [] })
    backend.handlers.vault_status = () => status({ state, mode: state === 'notCreated' ? null : 'passphrase' })
    backend.handlers.vault_create = () => created.promise.then(() => ((state = 'unlocked'), null))
    await start()

    click(need('setup-passphrase'))
    type(need('passphrase-input'), 'correct horse battery')
    type(need('passphrase-confirm'), 'correct horse batery')
    click(need('setup-create'))
    expect(need('setup-error').textContent).toMatch(/do not match/)
    expect(backend.called('vault_create')).toHaveLength(0)

    type(need('passphrase-confirm'), 'correct horse battery')
    click(need('setup-create'))
    await settle(2)
    flushSync()
    // Argon2 takes a moment: the buttons wait.
    expect((need('setup-create') as HTMLButtonElement).disabled).toBe(true)
    expect(document.body.textContent).toMatch(/Creating your encrypted vault/)
    created.resolve(null)
    await until(() => hook('new-chat'), 'the main screen')
    expect(backend.called('vault_create')[0].args).toEqual({ protection: 'passphrase', passphrase: 'correct horse battery' })
    // No provider yet: the chat points at Settings.
    expect(need('empty-state').textContent).toMatch(/provider/)
  })
})

describe('unlock', () => {
  it('shows the error for a wrong passphrase and opens with the right one', async () => {
    let state: VaultStatusDto['state'] = 'locked'
    backend = unlockedBackend()
    backend.handlers.vault_status = () => status({ state })
    backend.handlers.vault_unlock = ({ passphrase }) => {
      if (passphrase !== 'correct horse') throw commandError('WrongPassphrase', 'That passphrase does not unlock this vault.')
      state = 'unlocked'
      return null
    }
    await start()
    type(need('passphrase-input'), 'nope nope')
    click(need('unlock-submit'))
    await until(() => hook('unlock-error'), 'the unlock error')
    expect(need('unlock-error').textContent).toMatch(/does not unlock/)

    type(need('passphrase-input'), 'correct horse')
    click(need('unlock-submit'))
    await until(() => hook('conversation-item'), 'the conversation list')
    expect(hook('unlock-error')).toBeNull()
  })

  it('locks from the sidebar and removes every conversation from the page', async () => {
    backend = unlockedBackend()
    await start()
    await until(() => hook('conversation-item'))
    click(need('lock'))
    await until(() => hook('unlock-submit'), 'the unlock screen')
    expect(backend.called('vault_lock')).toHaveLength(1)
    expect(document.body.textContent).not.toContain('Zebras')
  })
})

describe('the sidebar', () => {
  it('keeps only the visible rows of 10,000 conversations in the page', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => summary(`c${i}`, 10_000 - i, false, `Conversation ${i}`))
    backend = unlockedBackend({ conversations: many })
    await start()
    await until(() => hook('conversation-item'))
    const rows = hooks('conversation-item')
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThan(60)
    expect(rows[0].dataset.id).toBe('c0')
    expect(hook('conversation-title', rows[0])?.textContent).toBe('Conversation 0')
    // Pages load as needed, not all at once.
    expect(backend.called('list_unfiled_conversations').length).toBeLessThanOrEqual(2)
  })

  it('moves between conversations with the arrow keys and opens one with Enter', async () => {
    backend = unlockedBackend({
      conversations: [summary('c1', 10, false, 'Zebras'), summary('c2', 5, false, 'Giraffes')],
      views: { c2: { conversation: conversation('c2', { title: 'Giraffes' }), toolServers: [], settings: { temperature: null, maxTokens: null, reasoning: null }, messages: [message('g1', 'user', 'Tall?')] } },
    })
    await start()
    const first = (await until(() => hook('conversation-item')))!.querySelector<HTMLButtonElement>('.open')!
    first.focus()
    press('ArrowDown', {}, first)
    await until(() => document.activeElement?.closest('[data-testid="conversation-item"]')?.getAttribute('data-id') === 'c2')
    ;(document.activeElement as HTMLButtonElement).click()
    await until(() => hook('message'), 'the opened conversation')
    expect(document.querySelector('h1')?.textContent).toBe('Giraffes')
  })

  it('renames in place, pins, and deletes after confirmation', async () => {
    backend = unlockedBackend({ conversations: [summary('c1', 10, false, 'Zebras'), summary('c2', 5, false, 'Giraffes')] })
    backend.handlers.rename_conversation = () => null
    backend.handlers.pin_conversation = () => null
    backend.handlers.delete_conversation = () => null
    await start()
    await until(() => hook('conversation-item'))

    const second = () => hooks('conversation-item').find((row) => row.dataset.id === 'c2')!
    click(need('conversation-rename', second()))
    const input = need('conversation-rename-input', second()) as HTMLInputElement
    expect(input.value).toBe('Giraffes')
    type(input, 'Tall animals')
    press('Enter', {}, input)
    await until(() => need('conversation-title', second()).textContent === 'Tall animals', 'the new title')
    expect(backend.called('rename_conversation')[0].args).toEqual({ id: 'c2', title: 'Tall animals' })

    // Pinning is in the row's menu.
    click(need('conversation-menu', second()))
    click(await until(() => hook('conversation-pin')))
    await until(() => hooks('conversation-item')[0].dataset.id === 'c2', 'the pinned row on top')
    expect(hook('row-menu'), 'the menu closes').toBeNull()
    expect(second().textContent).toContain('Pinned')

    click(need('conversation-delete', second()))
    const confirm = need('confirm-delete')
    expect(document.querySelector('[role="alertdialog"]')?.getAttribute('aria-modal')).toBe('true')
    expect(backend.called('delete_conversation')).toHaveLength(0)
    click(confirm)
    await until(() => hooks('conversation-item').length === 1, 'the row gone')
    expect(backend.called('delete_conversation')[0].args).toEqual({ id: 'c2' })
  })

  it('archives a conversation, shows it under Archived, and restores it', async () => {
    const rows = [summary('c1', 10, false, 'Zebras'), summary('c2', 5, false, 'Giraffes'), { ...summary('c3', 1, false, 'Old okapis'), archived: true }]
    backend = unlockedBackend()
    backend.handlers.list_unfiled_conversations = ({ limit, offset }) =>
      rows.filter((c) => !c.archived).slice(offset, offset + limit)
    backend.handlers.list_archived_conversations = ({ limit, offset }) =>
      rows.filter((c) => c.archived).slice(offset, offset + limit)
    backend.handlers.archive_conversation = ({ id, archived }) => {
      const row = rows.find((c) => c.id === id)!
      row.archived = archived as boolean
      return null
    }
    await start()
    await until(() => hook('conversation-item'))
    const ids = () => hooks('conversation-item').map((row) => row.dataset.id)
    expect(ids()).toEqual(['c1', 'c2'])

    const giraffes = hooks('conversation-item').find((row) => row.dataset.id === 'c2')!
    expect(hook('conversation-restore', giraffes)).toBeNull()
    click(need('conversation-archive', giraffes))
    await until(() => ids().length === 1, 'the archived row gone from the list')
    expect(backend.called('archive_conversation')[0].args).toEqual({ id: 'c2', archived: true })
    expect(ids()).toEqual(['c1'])

    const toggle = need('archived-toggle')
    expect(toggle.getAttribute('aria-pressed')).toBe('false')
    click(toggle)
    await until(() => hook('archived-heading'), 'the Archived view')
    expect(toggle.getAttribute('aria-pressed')).toBe('true')
    await until(() => ids().length === 2, 'the archived conversations')
    expect(ids()).toEqual(['c2', 'c3'])
    const okapis = hooks('conversation-item').find((row) => row.dataset.id === 'c3')!
    expect(hook('conversation-archive', okapis)).toBeNull()
    click(need('conversation-restore', okapis))
    await until(() => ids().length === 1, 'the restored row gone from Archived')
    expect(backend.called('archive_conversation')[1].args).toEqual({ id: 'c3', archived: false })

    click(toggle)
    await until(() => hook('archived-heading') === null, 'the default list again')
    await until(() => ids().length === 2, 'the restored conversation back in the list')
    expect(ids()).toEqual(['c1', 'c3'])
  })

  it('says when there are no archived conversations', async () => {
    backend = unlockedBackend()
    backend.handlers.list_archived_conversations = () => []
    await start()
    await until(() => hook('conversation-item'))
    click(need('archived-toggle'))
    const empty = await until(() => hook('archived-empty'), 'the empty Archived view')
    expect(empty.textContent?.trim()).toBe('No archived conversations.')
  })

  it('marks search results from archived conversations', async () => {
    backend = unlockedBackend()
    backend.handlers.search_conversations = () => [
      { conversationId: 'c1', messageId: null, role: null, snippet: 'Zebras', highlights: [[0, 6]], archived: false, title: 'Zebras' },
      {
        conversationId: 'c9',
        messageId: 'm9',
        role: 'user',
        snippet: 'zebras long ago',
        highlights: [[0, 6]],
        archived: true,
        title: 'Zoo trip <b>2019</b>',
      },
    ]
    await start()
    await until(() => hook('conversation-item'))
    type(need('search-input'), 'zebras')
    await until(() => hooks('search-result').length === 2, 'both results')
    const [current, old] = hooks('search-result')
    expect(hook('search-result-archived', current)).toBeNull()
    expect(need('search-result-archived', old).textContent).toBe('archived')
    // A conversation the sidebar has not loaded is named by the hit's own title, as text.
    expect(old.querySelector('.title')?.textContent).toBe('Zoo trip <b>2019</b>')
    expect(old.querySelector('b')).toBeNull()
  })

  it('searches as you type and marks matches with <mark> built from text', async () => {
    backend = unlockedBackend({
      views: {
        c1: {
          conversation: conversation('c1'),
          toolServers: [],
          settings: { temperature: null, maxTokens: null, reasoning: null },
          messages: [message('u1', 'user', 'about giraffes'), message('a1', 'assistant', 'Giraffes are tall.')],
        },
      },
    })
    backend.handlers.search_conversations = ({ query }) =>
      query === 'nothing'
        ? []
        : [
            {
              conversationId: 'c1',
              messageId: 'a1',
              role: 'assistant',
              snippet: '<img src=x onerror=alert(1)> 🦒 Giraffes are tall',
              highlights: [[31, 39]],
              archived: false,
              title: '',
            },
          ]
    await start()
    await until(() => hook('conversation-item'))

    press('k', { ctrlKey: true })
    expect(document.activeElement).toBe(need('search-input'))
    type(need('search-input'), 'giraffe')
    const result = await until(() => hook('search-result'), 'a search result')
    expect(result.dataset.conversationId).toBe('c1')
    expect(result.dataset.messageId).toBe('a1')
    expect(result.querySelector('img')).toBeNull()
    const marks = Array.from(result.querySelectorAll('mark'))
    expect(marks.map((m) => m.textContent)).toEqual(['Giraffes'])
    expect(marks[0].children).toHaveLength(0)
    expect(result.textContent).toContain('<img src=x onerror=alert(1)>')

    click(result)
    await until(() => document.querySelector('[data-testid="message"][data-id="a1"]'), 'the found message')

    type(need('search-input'), 'nothing')
    await until(() => hook('search-empty'), 'the empty result')
  })
})

describe('the chat', () => {
  const views = (): Record<string, ConversationViewDto> => ({
    c1: {
      conversation: conversation('c1', { title: 'Zebras' }),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [
        message('u1', 'user', 'Tell me about zebras'),
        message('a1', 'assistant', 'See [the zoo](https://zoo.example/zebras?a=1&b=2).\n\n```rust\nfn main() {}\n```', {
          tokensIn: 21,
          tokensOut: 34,
          siblings: ['a0', 'a1'],
        }),
      ],
    },
  })

  async function openZebras() {
    backend = unlockedBackend({ views: views() })
    backend.handlers.open_external = () => null
    const hearth = await start()
    click(await until(() => hook('conversation-item')))
    await until(() => hooks('message').length === 2, 'the messages')
    return hearth
  }

  it('renders a reply as markdown with usage, a copy button and the branch switcher', async () => {
    await openZebras()
    const reply = hooks('message')[1]
    expect(reply.dataset.role).toBe('assistant')
    expect(reply.dataset.status).toBe('complete')
    const content = need('message-content', reply)
    expect(content.querySelector('pre code')?.textContent).toBe('fn main() {}')
    expect(content.querySelector('pre button.copy-code')?.getAttribute('aria-label')).toBe('Copy rust code')
    expect(need('usage', reply).textContent).toBe('21 in · 34 out tokens')
    expect(need('branch-position', reply).textContent).toBe('2/2')
    expect((need('branch-next', reply) as HTMLButtonElement).disabled).toBe(true)
    expect(need('regenerate', reply)).toBeTruthy()
    expect(hook('regenerate', hooks('message')[0])).toBeNull()
    expect(document.querySelector('[role="log"]')?.getAttribute('aria-live')).toBe('polite')
  })

  it('switches to the previous version with select_branch', async () => {
    await openZebras()
    backend.handlers.select_branch = ({ messageId }) => ({
      conversation: conversation('c1'),
      messages: [message('u1', 'user', 'Tell me about zebras'), message(messageId, 'assistant', 'Older answer', { siblings: ['a0', 'a1'] })],
    })
    click(need('branch-prev', hooks('message')[1]))
    await until(() => hooks('message')[1]?.dataset.id === 'a0', 'the other version')
    expect(backend.called('select_branch')[0].args).toEqual({ messageId: 'a0' })
    expect(need('branch-position').textContent).toBe('1/2')
  })

  it('asks before opening a link, showing the whole address', async () => {
    await openZebras()
    const link = hooks('message')[1].querySelector('a')!
    const event = new MouseEvent('click', { bubbles: true, cancelable: true })
    link.dispatchEvent(event)
    flushSync()
    expect(event.defaultPrevented).toBe(true)
    const dialog = need('external-link-dialog')
    expect(dialog.getAttribute('role')).toBe('dialog')
    expect(dialog.getAttribute('aria-modal')).toBe('true')
    expect(need('external-link-url').textContent).toBe('https://zoo.example/zebras?a=1&b=2')
    expect(backend.called('open_external')).toHaveLength(0)

    click(need('external-link-cancel'))
    expect(hook('external-link-dialog')).toBeNull()
    expect(backend.called('open_external')).toHaveLength(0)

    link.click()
    flushSync()
    click(need('external-link-open'))
    await until(() => hook('external-link-dialog') === null, 'the dialog to close')
    expect(backend.called('open_external').map((c) => c.args)).toEqual([{ url: 'https://zoo.example/zebras?a=1&b=2' }])
  })

  it('closes a dialog with Escape', async () => {
    await openZebras()
    hooks('message')[1].querySelector('a')!.click()
    flushSync()
    need('external-link-dialog')
    press('Escape')
    expect(hook('external-link-dialog')).toBeNull()
  })

  it('sends with Enter, shows the reply as it streams, and stops it with Escape', async () => {
    await openZebras()
    const answer = deferred<unknown>()
    backend.handlers.send_message = () => answer.promise
    const composer = need('composer') as HTMLTextAreaElement
    type(composer, 'More please')
    press('Enter', { shiftKey: true }, composer)
    expect(backend.called('send_message')).toHaveLength(0)
    press('Enter', {}, composer)
    expect(backend.called('send_message')[0].args).toMatchObject({
      conversationId: 'c1',
      providerId: 'openai',
      model: 'gpt-test',
      text: 'More please',
    })
    expect(composer.value).toBe('')
    const shown = hooks('message')
    expect(shown.map((m) => m.dataset.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    expect(shown[3].dataset.status).toBe('streaming')
    expect(hook('send')).toBeNull()

    emit(backend.called('send_message')[0], { event: 'text', data: { text: 'Stripes, **lots**' } })
    await until(() => hooks('message')[3].querySelector('strong'), 'the streamed markdown')

    press('Escape')
    await settle()
    expect(backend.called('cancel_reply')).toHaveLength(1)
  })

  it('shows a failed reply with its error and a Retry that asks again', async () => {
    backend = unlockedBackend({
      views: {
        c1: {
          conversation: conversation('c1'),
          toolServers: [],
          settings: { temperature: null, maxTokens: null, reasoning: null },
          messages: [
            message('u1', 'user', 'Hi'),
            message('a1', 'assistant', '', { status: 'error', error: { kind: 'rate_limited', message: 'Too many requests.' } }),
          ],
        },
      },
    })
    backend.handlers.regenerate_reply = () => new Promise(() => {})
    await start()
    click(await until(() => hook('conversation-item')))
    const banner = await until(() => hook('error-banner'), 'the error banner')
    expect(banner.textContent).toContain('Too many requests.')
    click(need('retry'))
    expect(backend.called('regenerate_reply')[0].args).toMatchObject({ messageId: 'a1' })
  })

  it('shows a refusal as the model declining, with its text, not as a failure', async () => {
    backend = unlockedBackend({
      views: {
        c1: {
          conversation: conversation('c1'),
          toolServers: [],
          settings: { temperature: null, maxTokens: null, reasoning: null },
          messages: [
            message('u1', 'user', 'Hi'),
            message('a1', 'assistant', "I'm sorry, I can't help with that.", {
              status: 'error',
              error: { kind: 'refused', message: 'the model refused to answer' },
            }),
          ],
        },
      },
    })
    await start()
    click(await until(() => hook('conversation-item')))
    const note = await until(() => hook('refusal-note'), 'the refusal note')
    expect(note.textContent).toContain('declined to answer')
    expect(hook('error-banner')).toBeNull()
    const reply = hooks('message').at(-1)!
    expect(need('message-content', reply).textContent).toContain("I can't help with that.")
  })

  it('edits a user message in place and sends it again', async () => {
    await openZebras()
    backend.handlers.edit_message = () => new Promise(() => {})
    click(need('message-edit', hooks('message')[0]))
    const input = need('edit-input') as HTMLTextAreaElement
    expect(input.value).toBe('Tell me about zebras')
    type(input, 'Tell me about okapis')
    click(need('edit-submit'))
    expect(backend.called('edit_message')[0].args).toMatchObject({ messageId: 'u1', text: 'Tell me about okapis' })
    expect(hooks('message').map((m) => need('message-content', m).textContent)).toEqual(['Tell me about okapis', ''])
  })

  it('starts a new chat with Ctrl+N', async () => {
    await openZebras()
    press('n', { ctrlKey: true })
    expect(hooks('message')).toHaveLength(0)
    expect(document.querySelector('h1')?.textContent).toBe('New chat')
    expect(document.activeElement).toBe(need('composer'))
  })
})

describe('settings', () => {
  it('saves a provider and its key, then shows only the hint', async () => {
    backend = unlockedBackend({ providers: [provider('openai'), provider('ollama', { local: true, isDefault: true })] })
    backend.handlers.set_provider = ({ change }) =>
      provider(change.id, { baseUrl: change.baseUrl ?? 'https://openai.example/v1', defaultModel: change.defaultModel ?? null })
    backend.handlers.set_api_key = () => '…abcd'
    backend.handlers.list_models = () => [{ id: 'm1', name: null }, { id: 'm2', name: 'Model 2' }]
    await start()
    click(await until(() => hook('settings')))
    expect(need('settings-dialog').getAttribute('aria-modal')).toBe('true')
    click(need('settings-tab-providers'))
    click(hooks('provider-item').find((item) => item.dataset.id === 'openai')!)

    type(need('provider-base-url'), 'http://127.0.0.1:8080/v1')
    type(need('provider-default-model'), 'gpt-e2e')
    click(need('provider-make-default'))
    const key = need('provider-key-input') as HTMLInputElement
    expect(key.type).toBe('password')
    expect(key.value).toBe('')
    type(key, 'sk-test-0123abcd')
    click(need('provider-save'))
    await until(() => hook('provider-status'), 'the save status')
    expect(need('provider-status').textContent).toBe('Saved.')
    expect(backend.called('set_provider')[0].args).toEqual({
      change: { id: 'openai', baseUrl: 'http://127.0.0.1:8080/v1', defaultModel: 'gpt-e2e', makeDefault: true },
    })
    expect(backend.called('set_api_key')[0].args).toEqual({ providerId: 'openai', key: 'sk-test-0123abcd' })
    expect(need('provider-key-hint').textContent).toBe('Key set, ends in …abcd')
    expect(key.value).toBe('')
    expect(document.body.innerHTML).not.toContain('sk-test-0123abcd')

    click(need('provider-test'))
    await until(() => hook('provider-test-result'), 'the test result')
    expect(need('provider-test-result').textContent).toBe('Connected: 2 models')

    click(need('settings-close'))
    expect(hook('settings-dialog')).toBeNull()
  })

  it('shows why a save failed', async () => {
    backend = unlockedBackend()
    backend.handlers.set_provider = () => {
      throw commandError('Invalid', 'The base URL must start with https://.')
    }
    await start()
    click(await until(() => hook('settings')))
    type(need('provider-base-url'), 'ftp://nope')
    click(need('provider-save'))
    await until(() => hook('provider-status'))
    expect(need('provider-status').textContent).toContain('The base URL must start with https://.')
  })

  it('sets the auto-lock and locks now from Security; shows the data folder in About', async () => {
    backend = unlockedBackend()
    await start()
    click(await until(() => hook('settings')))
    click(need('settings-tab-security'))
    const select = need('auto-lock-minutes') as HTMLSelectElement
    expect(Array.from(select.options).map((o) => o.textContent)).toEqual([
      'Never',
      'After 5 minutes',
      'After 15 minutes',
      'After 30 minutes',
      'After 1 hour',
    ])
    select.value = '15'
    select.dispatchEvent(new Event('change', { bubbles: true }))
    await settle()
    expect(backend.called('set_settings')[0].args).toEqual({ settings: { autoLockMinutes: 15 } })

    click(need('settings-tab-about'))
    expect(need('data-dir').textContent).toBe('/home/me/.local/share/hearth')

    click(need('settings-tab-security'))
    click(need('lock-now'))
    await until(() => hook('unlock-submit'), 'the unlock screen')
  })
})
