// The "your data" screens mounted whole against a fake Rust side: the temporary chat, the
// inventory, retention, export, import, erase, and the delete confirmation, by their hooks.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import App from './App.svelte'
import { Hearth } from './lib/app.svelte'
import type {
  ConversationSummaryDto,
  ConversationViewDto,
  ExportDoneDto,
  ImportDoneDto,
  InventoryDto,
  SettingsDto,
  VaultStatusDto,
} from './lib/types'
import { commandError, deferred, emit, fakeBackend, report, resetBackend, settle, type FakeBackend } from './test/backend'
import { conversation, message, provider, summary } from './test/fixtures'
import { click, hook, hooks, need, press, type, until } from './test/dom'

const DAY = 86_400_000
const DATA_DIR = '/home/me/.local/share/hearth'

let app: ReturnType<typeof mount> | null = null
let backend: FakeBackend
let state: VaultStatusDto['state']
let conversations: ConversationSummaryDto[]
let settings: SettingsDto

/** Commands that write to the vault; a temporary chat must call none of them. */
const SAVING = [
  'send_message',
  'regenerate_reply',
  'edit_message',
  'set_conversation_model',
  'set_system_prompt',
  'rename_conversation',
  'pin_conversation',
  'archive_conversation',
]

function inventory(changes: Partial<InventoryDto> = {}): InventoryDto {
  return {
    dataDir: DATA_DIR,
    mode: 'keychain',
    files: [
      { path: `${DATA_DIR}/vault.db`, bytes: 5_452_595 },
      { path: `${DATA_DIR}/vault.db-wal`, bytes: 4_300 },
      { path: `${DATA_DIR}/settings.json`, bytes: 212 },
    ],
    keyLocation: 'keychain',
    keychainEntries: ['vault-key', 'provider:openai'],
    keychainError: null,
    providersWithKeys: ['openai'],
    conversations: 2,
    archivedConversations: 0,
    messages: 14,
    attachments: 0,
    attachmentBytes: 0,
    sqlcipherVersion: '4.6.1 community',
    schemaVersion: 3,
    ...changes,
  }
}

function views(): Record<string, ConversationViewDto> {
  return {
    c1: {
      conversation: conversation('c1', { title: 'Zebras' }),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [message('u1', 'user', 'Tell me about zebras'), message('a1', 'assistant', 'Stripes.')],
    },
  }
}

beforeEach(() => {
  document.body.innerHTML = ''
  state = 'unlocked'
  const now = Date.now()
  conversations = [
    summary('c1', now - DAY, false, 'Zebras'),
    summary('c2', now - 100 * DAY, false, 'Old trip'),
    summary('c3', now - 400 * DAY, true, 'Pinned recipe'),
  ]
  settings = { autoLockMinutes: null, retentionDays: null }
  const known = views()
  backend = fakeBackend({
    vault_status: () => ({
      state,
      mode: state === 'notCreated' ? null : 'keychain',
      dataDir: DATA_DIR,
      conversations: state === 'unlocked' ? conversations.length : null,
      messages: state === 'unlocked' ? 14 : null,
      keychainAvailable: true,
    }),
    vault_lock: () => {
      state = 'locked'
      return null
    },
    get_settings: () => settings,
    set_settings: ({ settings: next }) => {
      settings = next
      if (next.retentionDays !== null) {
        const cutoff = Date.now() - next.retentionDays * DAY
        conversations = conversations.filter((c) => c.pinned || c.updatedAt >= cutoff)
      }
      return next
    },
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })],
    list_unfiled_conversations: ({ limit, offset }) => conversations.slice(offset, offset + limit),
    open_conversation: ({ id }) => {
      if (known[id] === undefined || !conversations.some((c) => c.id === id)) {
        throw commandError('NotFound', 'no such conversation')
      }
      return structuredClone(known[id])
    },
    cancel_reply: () => true,
    data_inventory: () => inventory(),
  })
})

afterEach(() => {
  if (app !== null) unmount(app)
  app = null
  resetBackend()
})

async function start(): Promise<Hearth> {
  const hearth = new Hearth()
  app = mount(App, { target: document.body, props: { hearth } })
  flushSync()
  await settle()
  await until(() => hook('conversation-item'), 'the conversation list')
  return hearth
}

function select(element: HTMLElement, value: string): void {
  const select = element as HTMLSelectElement
  select.value = value
  select.dispatchEvent(new Event('change', { bubbles: true }))
  flushSync()
}

function rowTitles(): string[] {
  return hooks('conversation-title').map((t) => t.textContent ?? '')
}

async function openDataTab() {
  click(need('settings'))
  click(need('settings-tab-data'))
  return need('settings-dialog')
}

describe('the temporary chat', () => {
  it('chats in memory only: banner, streaming, stop, regenerate; never a saving command', async () => {
    backend.handlers.send_temporary = ({ requestId }) => ({ requestId, providerId: 'openai', model: 'gpt-test' })
    await start()
    click(need('conversation-item'))
    await until(() => hooks('message').length === 2, 'the saved conversation')

    click(need('temporary-chat'))
    expect(need('temporary-banner').textContent).toBe(
      'Temporary chat — nothing is saved. It disappears when you close it or lock Hearth.',
    )
    expect(need('temporary-chat').getAttribute('aria-pressed')).toBe('true')
    expect(hooks('message')).toHaveLength(0)
    expect(document.activeElement).toBe(need('composer'))
    // No sidebar row is the open one.
    expect(document.querySelector('[data-testid="conversation-item"] [aria-current="page"]')).toBeNull()

    type(need('composer'), 'Something private')
    press('Enter', {}, need('composer'))
    const call = await until(() => backend.called('send_temporary')[0], 'send_temporary')
    expect(call.args).toMatchObject({ turns: [{ fromUser: true, text: 'Something private', attachments: [] }], providerId: 'openai', model: 'gpt-test' })
    expect(hooks('message').map((m) => [m.dataset.role, m.dataset.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'streaming'],
    ])
    expect(hook('send')).toBeNull()

    emit(call, { event: 'text', data: { text: 'A **secret** answer' } })
    await until(() => hooks('message')[1].querySelector('strong'), 'the streamed markdown')

    click(need('stop'))
    await settle()
    expect(backend.called('cancel_reply').map((c) => c.args)).toEqual([{ id: call.args.requestId }])
    emit(call, { event: 'done', data: { messageId: call.args.requestId as string, status: 'cancelled' } })
    await until(() => hooks('message')[1].dataset.status === 'cancelled', 'the stopped reply')
    expect(hooks('message')[1].textContent).toContain('Stopped.')
    // No edits or alternatives here.
    expect(hook('message-edit')).toBeNull()

    click(need('regenerate', hooks('message')[1]))
    const again = await until(() => backend.called('send_temporary')[1], 'the second request')
    expect(again.args.turns).toEqual([{ fromUser: true, text: 'Something private', attachments: [] }])
    emit(again, { event: 'text', data: { text: 'Another answer' } })
    emit(again, { event: 'done', data: { messageId: again.args.requestId as string, status: 'complete' } })
    await until(() => hooks('message')[1]?.dataset.status === 'complete', 'the new reply')
    expect(hooks('message')).toHaveLength(2)
    expect(need('message-content', hooks('message')[1]).textContent?.trim()).toBe('Another answer')

    expect(backend.calls.filter((c) => SAVING.includes(c.command))).toEqual([])
  })

  it('asks before closing one with content, and Escape keeps it', async () => {
    await start()
    click(need('temporary-chat'))
    type(need('composer'), 'half a thought')
    click(need('temporary-close'))
    need('temporary-discard-dialog')
    press('Escape')
    expect(hook('temporary-discard-dialog')).toBeNull()
    expect(hook('temporary-banner')).not.toBeNull()

    click(need('temporary-close'))
    click(need('temporary-discard-confirm'))
    await until(() => hook('temporary-banner') === null, 'the temporary chat gone')
    expect(document.querySelector('h1')?.textContent).toBe('New chat')
    expect((need('composer') as HTMLTextAreaElement).value).toBe('')
  })

  it('closes an empty one at once, and asks when another conversation is opened', async () => {
    await start()
    click(need('temporary-chat'))
    click(need('temporary-close'))
    expect(hook('temporary-banner')).toBeNull()
    expect(hook('temporary-discard-dialog')).toBeNull()

    click(need('temporary-chat'))
    type(need('temporary-system-prompt'), 'Talk like a pirate')
    click(need('conversation-item'))
    need('temporary-discard-dialog')
    expect(backend.called('open_conversation')).toHaveLength(0)
    click(need('temporary-discard-confirm'))
    await until(() => hooks('message').length === 2, 'the opened conversation')
    expect(hook('temporary-banner')).toBeNull()
  })

  it('stops a streaming reply with Escape', async () => {
    backend.handlers.send_temporary = ({ requestId }) => ({ requestId, providerId: 'openai', model: 'gpt-test' })
    await start()
    click(need('temporary-chat'))
    type(need('composer'), 'Go on')
    press('Enter', {}, need('composer'))
    const call = await until(() => backend.called('send_temporary')[0])
    press('Escape')
    await settle()
    expect(backend.called('cancel_reply').map((c) => c.args)).toEqual([{ id: call.args.requestId }])
    expect(hook('temporary-banner')).not.toBeNull()
  })

  it('disappears when Hearth locks', async () => {
    backend.handlers.send_temporary = ({ requestId }) => ({ requestId, providerId: 'openai', model: 'gpt-test' })
    await start()
    click(need('temporary-chat'))
    type(need('composer'), 'Forget me')
    press('Enter', {}, need('composer'))
    await until(() => backend.called('send_temporary')[0])
    click(need('lock'))
    await until(() => hook('unlock-submit'), 'the unlock screen')
    expect(document.body.textContent).not.toContain('Forget me')
    expect(hook('temporary-discard-dialog')).toBeNull()
  })
})

describe('Settings: Privacy', () => {
  it('lists the files with their sizes, where the keys are, and keychain entry names only', async () => {
    await start()
    click(need('settings'))
    click(need('settings-tab-about'))
    const inventory = await until(() => hook('inventory'), 'the inventory')
    expect(need('data-dir').textContent).toBe(DATA_DIR)
    expect(hooks('inventory-file').map((f) => f.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'vault.db 5.2 MB',
      'vault.db-wal 4.2 KB',
      'settings.json 212 bytes',
    ])
    expect(hooks('inventory-file')[0].dataset.path).toBe(`${DATA_DIR}/vault.db`)
    expect(hooks('inventory-keychain-entry').map((e) => e.textContent)).toEqual(['vault-key', 'provider:openai'])
    expect(inventory.textContent).toMatch(/only the entries' names/)
    const text = inventory.textContent?.replace(/\s+/g, ' ')
    expect(text).toContain('It holds 2 conversations and 14 messages.')
    expect(text).toContain('Provider API keys are kept in your system keychain.')
    expect(need('inventory-providers').textContent).toBe('Openai.')
    expect(inventory.textContent).toContain('SQLCipher 4.6.1 community · database schema version 3')
  })

  it('counts archived conversations with the rest', async () => {
    backend.handlers.data_inventory = () => inventory({ conversations: 491, archivedConversations: 418 })
    await start()
    click(need('settings'))
    click(need('settings-tab-about'))
    const inventory_ = await until(() => hook('inventory'), 'the inventory')
    expect(inventory_.textContent?.replace(/\s+/g, ' ')).toContain('It holds 491 conversations, 418 archived, and 14 messages.')
  })

  it('says why the keychain could not be listed', async () => {
    backend.handlers.data_inventory = () =>
      inventory({ keychainEntries: [], keychainError: 'The keychain is locked.', keyLocation: 'vault', mode: 'passphrase' })
    await start()
    click(need('settings'))
    click(need('settings-tab-about'))
    await until(() => hook('inventory'))
    expect(need('inventory-keychain-error').textContent).toContain('The keychain is locked.')
    expect(hooks('inventory-keychain-entry')).toHaveLength(0)
    expect(need('inventory').textContent).toContain('inside the encrypted file')
  })
})

describe('Settings: Your data — retention', () => {
  it('is off by default and offers the fixed periods and a number of your own', async () => {
    await start()
    await openDataTab()
    const days = need('retention-days') as HTMLSelectElement
    expect(days.value).toBe('off')
    expect(Array.from(days.options).map((o) => o.value)).toEqual(['off', '30', '90', '180', '365', 'custom'])
    expect((need('retention-save') as HTMLButtonElement).disabled).toBe(true)
    expect(need('settings-dialog').textContent).toMatch(/Pinned conversations are always kept/)
  })

  it('confirms a shorter period with what it deletes, then deletes and reloads the sidebar', async () => {
    await start()
    expect(rowTitles()).toEqual(['Zebras', 'Old trip', 'Pinned recipe'])
    await openDataTab()
    select(need('retention-days'), '90')
    click(need('retention-save'))
    expect(backend.called('set_settings')).toHaveLength(0)
    expect(need('retention-count').textContent?.trim()).toBe('1 conversation will be deleted now.')
    expect(need('retention-dialog').textContent).toMatch(/permanently deletes/)

    press('Escape')
    expect(hook('retention-dialog')).toBeNull()
    expect(backend.called('set_settings')).toHaveLength(0)

    click(need('retention-save'))
    click(need('retention-confirm'))
    await until(() => hook('retention-dialog') === null, 'the dialog to close')
    expect(backend.called('set_settings')[0].args).toEqual({ settings: { autoLockMinutes: null, retentionDays: 90 } })
    await until(() => rowTitles().length === 2, 'the sidebar reloaded')
    expect(rowTitles()).toEqual(['Zebras', 'Pinned recipe'])
    expect((need('retention-days') as HTMLSelectElement).value).toBe('90')
    expect(need('retention-status').textContent?.trim()).toBe('Saved.')
  })

  it('saves a longer period or Off without asking', async () => {
    settings = { autoLockMinutes: null, retentionDays: 30 }
    await start()
    await openDataTab()
    expect((need('retention-days') as HTMLSelectElement).value).toBe('30')
    select(need('retention-days'), '365')
    click(need('retention-save'))
    await until(() => hook('retention-status'), 'the save to finish')
    expect(backend.called('set_settings')).toHaveLength(1)
    expect(hook('retention-dialog')).toBeNull()
    select(need('retention-days'), 'off')
    click(need('retention-save'))
    await until(() => backend.called('set_settings').length === 2)
    expect(backend.called('set_settings').map((c) => (c.args.settings as SettingsDto).retentionDays)).toEqual([365, null])
  })

  it('takes a number of days of your own, within 1 to 36,500', async () => {
    settings = { autoLockMinutes: 15, retentionDays: 45 }
    await start()
    await openDataTab()
    const days = need('retention-days') as HTMLSelectElement
    // A stored period that is not one of the choices is shown as it is.
    expect(days.value).toBe('45')
    select(days, 'custom')
    type(need('retention-custom'), '0')
    expect(need('retention-problem').textContent).toMatch(/1 to 36,500/)
    expect((need('retention-save') as HTMLButtonElement).disabled).toBe(true)
    type(need('retention-custom'), '60')
    expect(hook('retention-problem')).toBeNull()
    click(need('retention-save'))
    await until(() => backend.called('set_settings').length === 1)
    expect(backend.called('set_settings')[0].args).toEqual({ settings: { autoLockMinutes: 15, retentionDays: 60 } })
  })
})

describe('Settings: Your data — export', () => {
  it('exports everything as JSON with progress, then says where it went', async () => {
    const done = deferred<ExportDoneDto | null>()
    backend.handlers.export_data = () => done.promise
    await start()
    await openDataTab()
    click(need('export-json'))
    const call = backend.called('export_data')[0]
    expect(call.args.format).toBe('json')
    expect(call.args.conversationId).toBeUndefined()
    expect(need('export-progress').textContent).toMatch(/Choose where to save/)
    expect((need('export-markdown') as HTMLButtonElement).disabled).toBe(true)

    report(call, { conversations: 2, messages: 9 })
    flushSync()
    expect(need('export-progress').textContent).toMatch(/Exporting… 2 conversations, 9 messages so far/)

    done.resolve({ path: '/home/me/Documents/hearth.json', conversations: 3, messages: 14 })
    const result = await until(() => hook('export-result'), 'the result')
    expect(result.textContent).toBe('Saved to /home/me/Documents/hearth.json: 3 conversations, 14 messages')
    expect(hook('export-progress')).toBeNull()
  })

  it('shows nothing when the save dialog is cancelled, and the error when it fails', async () => {
    backend.handlers.export_data = () => null
    await start()
    await openDataTab()
    click(need('export-markdown'))
    await until(() => !(need('export-json') as HTMLButtonElement).disabled, 'the export to end')
    expect(backend.called('export_data')[0].args.format).toBe('markdown')
    expect(hook('export-result')).toBeNull()
    expect(hook('export-error')).toBeNull()
    expect(hook('export-progress')).toBeNull()

    backend.handlers.export_data = () => {
      throw commandError('Internal', 'Permission denied: /root/x.json')
    }
    click(need('export-json'))
    const error = await until(() => hook('export-error'), 'the error')
    expect(error.textContent).toContain('Permission denied: /root/x.json')
  })

  it('asks for the archive passphrase twice, at least 8 characters', async () => {
    backend.handlers.export_data = () => ({ path: '/home/me/hearth.hearth', conversations: 3, messages: 14 })
    await start()
    await openDataTab()
    click(need('export-archive'))
    expect(document.activeElement).toBe(need('export-passphrase'))
    type(need('export-passphrase'), 'short')
    type(need('export-passphrase-confirm'), 'short')
    click(need('export-start'))
    expect(need('export-passphrase-problem').textContent).toMatch(/at least 8/)
    type(need('export-passphrase'), 'correct horse')
    type(need('export-passphrase-confirm'), 'correct horse!')
    click(need('export-start'))
    expect(need('export-passphrase-problem').textContent).toMatch(/do not match/)
    expect(backend.called('export_data')).toHaveLength(0)

    type(need('export-passphrase-confirm'), 'correct horse')
    click(need('export-start'))
    await until(() => hook('export-result'), 'the result')
    const { onProgress: _channel, ...args } = backend.called('export_data')[0].args
    expect(args).toEqual({ format: 'archive', archivePassphrase: 'correct horse' })
    // The passphrase is not kept once used.
    expect(hook('export-passphrase')).toBeNull()
  })

  it('exports one conversation from its header', async () => {
    backend.handlers.export_data = () => ({ path: '/home/me/zebras.md', conversations: 1, messages: 2 })
    await start()
    expect(hook('conversation-export')).toBeNull()
    click(need('conversation-item'))
    await until(() => hooks('message').length === 2)
    click(need('conversation-export'))
    const dialog = need('conversation-export-dialog')
    expect(dialog.textContent).toContain('Export “Zebras”')
    click(need('export-markdown', dialog))
    await until(() => hook('export-result', dialog), 'the result')
    expect(backend.called('export_data')[0].args).toMatchObject({ format: 'markdown', conversationId: 'c1' })
    expect(need('export-result').textContent).toBe('Saved to /home/me/zebras.md: 1 conversation, 2 messages')
    press('Escape')
    expect(hook('conversation-export-dialog')).toBeNull()
    // Seen and closed: the next export starts clean.
    click(need('conversation-export'))
    expect(hook('export-result')).toBeNull()
  })
})

describe('Settings: Your data — import', () => {
  it('imports an archive with its passphrase, shows progress and the result, and refreshes the sidebar', async () => {
    const done = deferred<ImportDoneDto>()
    backend.handlers.pick_import_file = () => ({ token: 'tok-1', name: 'backup.hearth', format: 'hearthArchive' })
    backend.handlers.import_picked = () => done.promise
    await start()
    await openDataTab()
    click(need('import-start'))
    await until(() => hook('import-file-name'), 'the picked file')
    expect(need('import-file-name').textContent).toBe('backup.hearth')
    expect(need('import-format').textContent).toBe('Hearth encrypted archive')
    expect(need('import-format').dataset.format).toBe('hearthArchive')
    expect((need('import-confirm') as HTMLButtonElement).disabled).toBe(true)

    type(need('import-passphrase'), 'correct horse')
    click(need('import-confirm'))
    const call = backend.called('import_picked')[0]
    expect(call.args).toMatchObject({ token: 'tok-1', archivePassphrase: 'correct horse' })
    expect(need('import-progress').textContent).toMatch(/Importing/)
    report(call, { conversations: 1, messages: 4 })
    flushSync()
    expect(need('import-progress').textContent).toMatch(/1 conversation, 4 messages so far/)

    conversations = [summary('c9', Date.now(), false, 'From the archive'), ...conversations]
    done.resolve({ added: 1, skipped: 2, messages: 4, notConverted: [] })
    const result = await until(() => hook('import-result'), 'the result')
    expect(result.textContent).toBe('Imported 1 conversation (4 messages); 2 were already here.')
    await until(() => rowTitles()[0] === 'From the archive', 'the sidebar refreshed')
    expect(hook('import-file-name')).toBeNull()
  })

  it('shows the whole error when the file is broken, and nothing was added', async () => {
    backend.handlers.pick_import_file = () => ({ token: 'tok-2', name: 'conversations.json', format: 'chatgpt' })
    backend.handlers.import_picked = () => {
      throw commandError('Invalid', 'conversations.json: conversation 7 ("Taxes"), node "a1b2": "parts" must be a list. Nothing was imported.')
    }
    await start()
    await openDataTab()
    click(need('import-start'))
    await until(() => hook('import-format'))
    expect(need('import-format').textContent).toBe('ChatGPT export')
    expect(hook('import-passphrase')).toBeNull()
    click(need('import-confirm'))
    const error = await until(() => hook('import-error'), 'the error')
    expect(error.textContent).toContain(
      'conversations.json: conversation 7 ("Taxes"), node "a1b2": "parts" must be a list. Nothing was imported.',
    )
    expect(error.textContent).toContain('Nothing was added.')
    expect(backend.called('import_picked')[0].args.archivePassphrase).toBeUndefined()
  })

  it('explains which files work when it does not recognise one', async () => {
    backend.handlers.pick_import_file = () => ({ token: 'tok-3', name: 'notes.txt', format: 'unknown' })
    await start()
    await openDataTab()
    click(need('import-start'))
    const unknown = await until(() => hook('import-unknown'), 'the explanation')
    expect(unknown.textContent).toMatch(/ChatGPT: conversations\.json, or the whole data-export \.zip/)
    expect(unknown.textContent).toMatch(/Claude/)
    expect(unknown.textContent).toMatch(/\.hearth/)
    expect(hook('import-confirm')).toBeNull()
  })

  it('shows nothing new when the open dialog is cancelled', async () => {
    backend.handlers.pick_import_file = () => null
    await start()
    await openDataTab()
    click(need('import-start'))
    await until(() => !(need('import-start') as HTMLButtonElement).disabled, 'the picker to close')
    expect(hook('import-file-name')).toBeNull()
    expect(hook('import-error')).toBeNull()
  })

  it('names the conversations that were left out, and why', async () => {
    backend.handlers.pick_import_file = () => ({ token: 'tok-5', name: 'conversations.json', format: 'chatgpt' })
    backend.handlers.import_picked = () => ({
      added: 3,
      skipped: 0,
      messages: 12,
      notConverted: [{ number: 2, title: 'Only a stub', id: 'c-2', reason: 'it has no `mapping`' }],
    })
    await start()
    await openDataTab()
    click(need('import-start'))
    await until(() => hook('import-confirm'))
    click(need('import-confirm'))
    expect((await until(() => hook('import-result'))).textContent).toBe('Imported 3 conversations (12 messages).')
    const left = need('import-left-out')
    expect(left.textContent).toContain('1 conversation could not be converted and was left out')
    expect(left.textContent).toContain('Only a stub')
    expect(left.textContent).toContain('c-2')
    expect(left.textContent).toContain('it has no `mapping`')
  })

  it('says so when the archive passphrase is wrong, and lets you try again', async () => {
    backend.handlers.pick_import_file = () => ({ token: 'tok-4', name: 'b.hearth', format: 'hearthArchive' })
    backend.handlers.import_picked = ({ archivePassphrase }) => {
      if (archivePassphrase !== 'right passphrase') throw commandError('WrongPassphrase', 'That passphrase does not open this archive.')
      return { added: 2, skipped: 0, messages: 8, notConverted: [] }
    }
    await start()
    await openDataTab()
    click(need('import-start'))
    await until(() => hook('import-passphrase'))
    type(need('import-passphrase'), 'wrong passphrase')
    click(need('import-confirm'))
    const error = await until(() => hook('import-error'))
    expect(error.textContent).toContain('Wrong passphrase.')
    type(need('import-passphrase'), 'right passphrase')
    click(need('import-confirm'))
    expect((await until(() => hook('import-result'))).textContent).toBe('Imported 2 conversations (8 messages).')
  })
})

describe('Settings: Your data — erase everything', () => {
  it('lists what goes, waits for the word, then erases and returns to setup', async () => {
    backend.handlers.erase_everything = ({ confirmation }) => {
      if (confirmation !== 'erase') throw commandError('Invalid', 'Type erase to confirm.')
      state = 'notCreated'
      return { keptKeychainEntries: [], keptBecause: null }
    }
    await start()
    await openDataTab()
    click(need('erase-start'))
    const dialog = need('erase-dialog')
    expect(dialog.getAttribute('role')).toBe('alertdialog')
    expect(document.activeElement).toBe(need('erase-confirm-input'))
    await until(() => dialog.textContent?.includes('3 conversations'), 'the counts')
    for (const item of ['every conversation and message', 'the encrypted vault file', 'key in the system keychain', 'provider API keys', 'cannot be undone', 'export them first']) {
      expect(dialog.textContent).toContain(item)
    }

    const confirm = need('erase-confirm') as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    type(need('erase-confirm-input'), 'eras')
    expect(confirm.disabled).toBe(true)
    click(confirm)
    expect(backend.called('erase_everything')).toHaveLength(0)
    type(need('erase-confirm-input'), 'erase')
    expect(confirm.disabled).toBe(false)
    click(confirm)
    await until(() => hook('setup-passphrase'), 'first-run setup')
    expect(backend.called('erase_everything')[0].args).toEqual({ confirmation: 'erase' })
    expect(document.body.textContent).not.toContain('Zebras')
    expect(hook('erase-kept-notice')).toBeNull()
  })

  it('after erasing a copy of another vault, says which keychain entries it kept and how to remove them', async () => {
    backend.handlers.erase_everything = () => {
      state = 'notCreated'
      return {
        keptKeychainEntries: ['vault-key:0190-abc', 'vault-key:0190-abc:provider:<b>groq</b>'],
        keptBecause: 'this folder is a copy of the vault kept in /home/me/.local/share/hearth',
      }
    }
    await start()
    await openDataTab()
    click(need('erase-start'))
    type(need('erase-confirm-input'), 'erase')
    click(need('erase-confirm'))
    const notice = await until(() => hook('erase-kept-notice'), 'the kept-entries notice')
    expect(notice.textContent).toContain('this folder is a copy of the vault kept in /home/me/.local/share/hearth')
    expect(notice.textContent).toContain('secret-tool clear service Hearth username ACCOUNT')
    const accounts = [...notice.querySelectorAll('li code')].map((c) => c.textContent)
    expect(accounts).toEqual(['vault-key:0190-abc', 'vault-key:0190-abc:provider:<b>groq</b>'])
    expect(notice.querySelector('b')).toBeNull()
    expect(hook('setup-passphrase')).not.toBeNull()
  })

  it('shows why erasing failed and keeps everything', async () => {
    backend.handlers.erase_everything = () => {
      throw commandError('Internal', 'The keychain refused to delete the key.')
    }
    await start()
    await openDataTab()
    click(need('erase-start'))
    type(need('erase-confirm-input'), 'erase')
    // Enter in the field submits the form, as the button does.
    ;(need('erase-confirm-input').closest('form') as HTMLFormElement).requestSubmit()
    const error = await until(() => hook('erase-error'), 'the error')
    expect(error.textContent).toContain('The keychain refused to delete the key.')
    expect(hook('conversation-item')).not.toBeNull()

    press('Escape')
    expect(hook('erase-dialog')).toBeNull()
    expect(hook('settings-dialog')).not.toBeNull()
  })
})

describe('deleting a conversation', () => {
  it('says the deletion is permanent and cannot be recovered', async () => {
    backend.handlers.delete_conversation = () => null
    await start()
    click(need('conversation-delete'))
    const dialog = need('delete-dialog')
    expect(dialog.textContent).toMatch(/deleted permanently/)
    expect(dialog.textContent).toMatch(/cannot be recovered/)
    click(need('confirm-delete'))
    await until(() => rowTitles().length === 2)
  })
})
