// "Your data" logic against a fake backend: export, import, the retention period, and the
// small formats the privacy page uses.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { commandError, deferred, fakeBackend, report, resetBackend, settle } from '../test/backend'
import { summary } from '../test/fixtures'
import { formatBytes, relativeTo } from './format'
import {
  expiredConversations,
  retentionProblem,
  retentionShortens,
  SettingsStore,
} from './settings.svelte'
import {
  ExportStore,
  exportSummary,
  importFormat,
  importFormatLabel,
  ImportStore,
  importSummary,
  transferCounts,
} from './transfers.svelte'
import type { ExportDoneDto, ImportDoneDto, PickedFileDto } from './types'

afterEach(() => {
  resetBackend()
})

describe('ExportStore', () => {
  it('reports progress while the engine exports, then where the file went', async () => {
    const done = deferred<ExportDoneDto | null>()
    const backend = fakeBackend({ export_data: () => done.promise })
    const exports = new ExportStore()
    const running = exports.run({ format: 'json' })
    expect(exports.running).toBe(true)
    expect(exports.scope).toBeNull()
    const [call] = backend.called('export_data')
    expect(call.args.format).toBe('json')
    expect('conversationId' in call.args).toBe(false)
    expect('archivePassphrase' in call.args).toBe(false)

    report(call, { conversations: 3, messages: 40 })
    expect(exports.progress).toEqual({ conversations: 3, messages: 40 })

    // A second export waits for the first.
    expect(await exports.run({ format: 'markdown' })).toBeNull()
    expect(backend.called('export_data')).toHaveLength(1)

    done.resolve({ path: '/home/me/hearth.json', conversations: 12, messages: 340 })
    expect(await running).toEqual({ path: '/home/me/hearth.json', conversations: 12, messages: 340 })
    expect(exports.running).toBe(false)
    expect(exports.progress).toBeNull()
    expect(exportSummary(exports.result!)).toBe('Saved to /home/me/hearth.json: 12 conversations, 340 messages')
  })

  it('shows nothing when the save dialog was cancelled', async () => {
    fakeBackend({ export_data: () => null })
    const exports = new ExportStore()
    expect(await exports.run({ format: 'markdown' })).toBeNull()
    expect(exports.result).toBeNull()
    expect(exports.error).toBeNull()
  })

  it('sends the archive passphrase and the conversation only when they apply', async () => {
    const backend = fakeBackend({ export_data: () => null })
    const exports = new ExportStore()
    await exports.run({ format: 'archive', conversationId: 'c7', archivePassphrase: 'correct horse' })
    await exports.run({ format: 'json', conversationId: 'c7', archivePassphrase: 'ignored here' })
    expect(backend.called('export_data').map((c) => {
      const { onProgress: _channel, ...args } = c.args
      return args
    })).toEqual([
      { format: 'archive', conversationId: 'c7', archivePassphrase: 'correct horse' },
      { format: 'json', conversationId: 'c7' },
    ])
    expect(exports.scope).toBe('c7')
  })

  it('keeps the error to show, and forgets an answer that arrives after a lock', async () => {
    const answer = deferred<ExportDoneDto | null>()
    const backend = fakeBackend({
      export_data: () => {
        throw commandError('Internal', 'The disk is full.')
      },
    })
    const exports = new ExportStore()
    await exports.run({ format: 'json' })
    expect(exports.error).toBe('The disk is full.')

    backend.handlers.export_data = () => answer.promise
    const running = exports.run({ format: 'json' })
    exports.reset()
    answer.resolve({ path: '/x', conversations: 1, messages: 1 })
    await running
    expect(exports.result).toBeNull()
    expect(exports.running).toBe(false)
  })
})

describe('ImportStore', () => {
  const archive: PickedFileDto = { token: 't1', name: 'backup.hearth', format: 'hearthArchive' }

  it('picks a file, imports it with the archive passphrase, and says what was added', async () => {
    const finished = deferred<ImportDoneDto>()
    const backend = fakeBackend({
      pick_import_file: () => archive,
      import_picked: () => finished.promise,
    })
    const imported = vi.fn()
    const imports = new ImportStore(imported)
    await imports.pick()
    expect(imports.picked).toEqual(archive)

    const running = imports.run('correct horse')
    expect(imports.running).toBe(true)
    const [call] = backend.called('import_picked')
    expect(call.args).toMatchObject({ token: 't1', archivePassphrase: 'correct horse' })
    report(call, { conversations: 5, messages: 61 })
    expect(transferCounts(imports.progress!)).toBe('5 conversations, 61 messages')

    finished.resolve({ added: 5, skipped: 2, messages: 61, notConverted: [] })
    await running
    expect(imports.result).toEqual({ added: 5, skipped: 2, messages: 61, notConverted: [] })
    expect(imports.picked).toBeNull()
    expect(imported).toHaveBeenCalledWith({ added: 5, skipped: 2, messages: 61, notConverted: [] })
  })

  it('clears a finished import, but not one that is running', async () => {
    const finished = deferred<ImportDoneDto>()
    fakeBackend({ import_picked: () => finished.promise })
    const imports = new ImportStore()
    imports.picked = archive
    const running = imports.run('correct horse')
    imports.clear()
    expect(imports.running).toBe(true)
    finished.resolve({ added: 1, skipped: 0, messages: 1, notConverted: [] })
    await running
    expect(imports.result).not.toBeNull()
    imports.clear()
    expect(imports.result).toBeNull()
  })

  it('leaves everything as it was when the open dialog is cancelled', async () => {
    fakeBackend({ pick_import_file: () => null })
    const imports = new ImportStore()
    imports.picked = archive
    await imports.pick()
    expect(imports.picked).toEqual(archive)
    expect(imports.picking).toBe(false)
  })

  it('keeps the file after a wrong passphrase, so the user can try again', async () => {
    let attempts = 0
    const backend = fakeBackend({
      pick_import_file: () => archive,
      import_picked: ({ archivePassphrase }) => {
        attempts++
        if (archivePassphrase !== 'right one') throw commandError('WrongPassphrase', 'That passphrase does not open this archive.')
        return { added: 1, skipped: 0, messages: 2, notConverted: [] }
      },
    })
    const imports = new ImportStore()
    await imports.pick()
    await imports.run('wrong one')
    expect(imports.error).toMatchObject({ kind: 'WrongPassphrase', message: 'That passphrase does not open this archive.' })
    expect(imports.picked).toEqual(archive)
    await imports.run('right one')
    expect(imports.error).toBeNull()
    expect(imports.result).toEqual({ added: 1, skipped: 0, messages: 2, notConverted: [] })
    expect(attempts).toBe(2)
    expect(backend.called('import_picked')).toHaveLength(2)
  })

  it('sends no passphrase for plain files and refuses files it does not recognise', async () => {
    const backend = fakeBackend({ import_picked: () => ({ added: 0, skipped: 3, messages: 0, notConverted: [] }) })
    const imports = new ImportStore()
    imports.picked = { token: 't2', name: 'notes.txt', format: 'unknown' }
    expect(await imports.run()).toBeNull()
    imports.picked = { token: 't2', name: 'chat.gemini', format: 'gemini' }
    expect(await imports.run()).toBeNull()
    expect(backend.called('import_picked')).toHaveLength(0)

    imports.picked = { token: 't3', name: 'conversations.json', format: 'chatgpt' }
    await imports.run('typed by mistake')
    const { onProgress: _channel, ...args } = backend.called('import_picked')[0].args
    expect(args).toEqual({ token: 't3' })
  })

  it('keeps the engine\'s whole message when the file is broken', async () => {
    fakeBackend({
      import_picked: () => {
        throw commandError('Invalid', 'conversations.json, conversation 14 ("Trip"), message 3: "content" is not text. Nothing was imported.')
      },
    })
    const imported = vi.fn()
    const imports = new ImportStore(imported)
    imports.picked = { token: 't', name: 'conversations.json', format: 'claude' }
    await imports.run()
    expect(imports.error?.message).toBe(
      'conversations.json, conversation 14 ("Trip"), message 3: "content" is not text. Nothing was imported.',
    )
    expect(imports.result).toBeNull()
    expect(imported).not.toHaveBeenCalled()
  })

  it('names formats and sums up results in words', () => {
    expect(importFormatLabel('chatgpt')).toBe('ChatGPT export')
    expect(importFormatLabel('hearthArchive')).toBe('Hearth encrypted archive')
    expect(importFormatLabel('unknown')).toMatch(/not a file/i)
    // A format this UI does not know yet is treated as unrecognised, not imported.
    expect(importFormat({ format: 'gemini' })).toBe('unknown')
    expect(importFormat({ format: 'claude' })).toBe('claude')
    expect(importSummary({ added: 3, skipped: 2, messages: 41, notConverted: [] })).toBe('Imported 3 conversations (41 messages); 2 were already here.')
    expect(importSummary({ added: 1, skipped: 1, messages: 1, notConverted: [] })).toBe('Imported 1 conversation (1 message); 1 was already here.')
    expect(importSummary({ added: 1200, skipped: 0, messages: 56000, notConverted: [] })).toBe('Imported 1,200 conversations (56,000 messages).')
  })
})

describe('the retention period', () => {
  const DAY = 86_400_000

  it('accepts off and whole days from 1 to 36,500', () => {
    expect(retentionProblem(null)).toBeNull()
    expect(retentionProblem(1)).toBeNull()
    expect(retentionProblem(36_500)).toBeNull()
    for (const bad of [0, -3, 36_501, 1.5, Number.NaN]) expect(retentionProblem(bad)).toMatch(/1 to 36,500/)
  })

  it('calls a change shorter when it can delete at once', () => {
    expect(retentionShortens(null, 30)).toBe(true)
    expect(retentionShortens(90, 30)).toBe(true)
    expect(retentionShortens(30, 90)).toBe(false)
    expect(retentionShortens(30, null)).toBe(false)
    expect(retentionShortens(30, 30)).toBe(false)
  })

  it('finds the unpinned conversations untouched for longer than the period', () => {
    const now = 1000 * DAY
    const items = [
      summary('fresh', now - 5 * DAY),
      summary('old', now - 40 * DAY),
      summary('old-pinned', now - 400 * DAY, true),
      summary('ancient', now - 400 * DAY),
    ]
    expect(expiredConversations(items, 30, now).map((c) => c.id)).toEqual(['old', 'ancient'])
    expect(expiredConversations(items, 365, now).map((c) => c.id)).toEqual(['ancient'])
  })

  it('saves the period with the other settings and refuses one the engine would', async () => {
    const backend = fakeBackend({
      get_settings: () => ({ autoLockMinutes: 15, retentionDays: null }),
      set_settings: ({ settings }) => settings,
    })
    const changed = vi.fn()
    const settings = new SettingsStore(changed)
    await settings.load()
    await settings.setRetention(90)
    expect(backend.called('set_settings')[0].args).toEqual({ settings: { autoLockMinutes: 15, retentionDays: 90 } })
    expect(settings.settings.retentionDays).toBe(90)
    expect(changed).toHaveBeenLastCalledWith({ autoLockMinutes: 15, retentionDays: 90 })

    await expect(settings.setRetention(0)).rejects.toMatchObject({ kind: 'Invalid' })
    expect(backend.called('set_settings')).toHaveLength(1)

    backend.handlers.set_settings = () => {
      throw commandError('Invalid', 'retention must be 1..36500 days')
    }
    await expect(settings.setRetention(30)).rejects.toMatchObject({ message: 'retention must be 1..36500 days' })
    expect(settings.settings.retentionDays).toBe(90)
    await settle()
  })
})

describe('formats', () => {
  it('writes sizes as people read them', () => {
    expect(formatBytes(0)).toBe('0 bytes')
    expect(formatBytes(1)).toBe('1 byte')
    expect(formatBytes(1023)).toBe('1023 bytes')
    expect(formatBytes(1024)).toBe('1 KB')
    expect(formatBytes(4300)).toBe('4.2 KB')
    expect(formatBytes(123_456_789)).toBe('118 MB')
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5 GB')
    expect(formatBytes(-1)).toBe('?')
  })

  it('shows files inside the data folder by their relative path', () => {
    expect(relativeTo('/home/me/.local/share/hearth/vault.db', '/home/me/.local/share/hearth')).toBe('vault.db')
    expect(relativeTo('/home/me/.local/share/hearth/logs/a.log', '/home/me/.local/share/hearth/')).toBe('logs/a.log')
    expect(relativeTo('C:\\Users\\me\\Hearth\\vault.db', 'C:\\Users\\me\\Hearth')).toBe('vault.db')
    expect(relativeTo('/home/me/.local/share/hearth-old/vault.db', '/home/me/.local/share/hearth')).toBe(
      '/home/me/.local/share/hearth-old/vault.db',
    )
    expect(relativeTo('/elsewhere/x', '/home/me')).toBe('/elsewhere/x')
  })
})
