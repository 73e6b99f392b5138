// The app as a whole around "your data": leaving a temporary chat, locking it away,
// reloading after conversations were deleted or added behind the sidebar, erasing.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { commandError, emit, fakeBackend, resetBackend, settle, type FakeBackend } from '../test/backend'
import { conversation, message, provider, summary } from '../test/fixtures'
import { Hearth } from './app.svelte'
import type { ConversationSummaryDto, VaultStatusDto } from './types'

let backend: FakeBackend
let state: VaultStatusDto['state']
let conversations: ConversationSummaryDto[]

beforeEach(() => {
  state = 'unlocked'
  conversations = [summary('c1', 10, false, 'Zebras'), summary('c2', 5, false, 'Giraffes')]
  backend = fakeBackend({
    vault_status: () => ({
      state,
      mode: state === 'notCreated' ? null : 'keychain',
      dataDir: '/data',
      conversations: state === 'unlocked' ? conversations.length : null,
      messages: null,
      keychainAvailable: true,
    }),
    vault_lock: () => {
      state = 'locked'
      return null
    },
    vault_unlock: () => {
      throw commandError('KeychainUnavailable', 'no keychain in tests')
    },
    get_settings: () => ({ autoLockMinutes: null, retentionDays: null }),
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true })],
    list_unfiled_conversations: ({ limit, offset }) => conversations.slice(offset, offset + limit),
    open_conversation: ({ id }) => {
      const found = conversations.find((c) => c.id === id)
      if (found === undefined) throw commandError('NotFound', 'no such conversation')
      return { conversation: conversation(id, { title: found.title }), messages: [message('u1', 'user', 'Hi')] }
    },
    send_temporary: ({ requestId }) => ({ requestId, providerId: 'openai', model: 'gpt-test' }),
    cancel_reply: () => true,
  })
})

afterEach(() => {
  resetBackend()
})

async function started(): Promise<Hearth> {
  const hearth = new Hearth()
  await hearth.start()
  return hearth
}

describe('leaving a temporary chat', () => {
  it('opens over a new chat and leaves at once while it is empty', async () => {
    const hearth = await started()
    await hearth.openConversation('c1')
    hearth.startTemporary()
    expect(hearth.temporary.active).toBe(true)
    expect(hearth.surface).toBe(hearth.temporary)
    expect(hearth.chat.currentId).toBeNull()

    await hearth.openConversation('c2')
    expect(hearth.temporaryLeave).toBeNull()
    expect(hearth.temporary.active).toBe(false)
    expect(hearth.surface).toBe(hearth.chat)
    expect(hearth.chat.currentId).toBe('c2')
  })

  it('asks before discarding turns, and does what was asked only after yes', async () => {
    const hearth = await started()
    hearth.startTemporary()
    await hearth.temporary.send('Something private')

    await hearth.openConversation('c1')
    expect(hearth.temporaryLeave).not.toBeNull()
    expect(hearth.temporary.active).toBe(true)
    expect(backend.called('open_conversation')).toHaveLength(0)

    hearth.cancelLeaveTemporary()
    expect(hearth.temporary.messages).toHaveLength(2)

    await hearth.openConversation('c1')
    await hearth.confirmLeaveTemporary()
    expect(hearth.temporary.active).toBe(false)
    expect(hearth.temporary.messages).toEqual([])
    expect(hearth.chat.currentId).toBe('c1')
    // The reply being written was stopped on the way out.
    expect(backend.called('cancel_reply').map((c) => c.args.id)).toEqual([backend.called('send_temporary')[0].args.requestId])
  })

  it('asks on New chat and on Close too', async () => {
    const hearth = await started()
    hearth.startTemporary()
    hearth.temporary.draftText = 'not sent yet'
    hearth.newChat()
    expect(hearth.temporaryLeave).not.toBeNull()
    await hearth.confirmLeaveTemporary()
    expect(hearth.temporary.active).toBe(false)

    hearth.startTemporary()
    hearth.closeTemporary()
    expect(hearth.temporary.active).toBe(false)
    expect(hearth.temporaryLeave).toBeNull()
  })

  it('is discarded without asking when the vault locks', async () => {
    const hearth = await started()
    hearth.startTemporary()
    await hearth.temporary.send('Something private')
    const call = backend.called('send_temporary')[0]
    await hearth.vault.lock()
    expect(hearth.vault.screen).toBe('unlock')
    expect(hearth.temporary.active).toBe(false)
    expect(hearth.temporary.messages).toEqual([])
    expect(hearth.temporaryLeave).toBeNull()
    // Nothing that arrives afterwards brings it back.
    emit(call, { event: 'text', data: { text: 'late' } })
    await settle()
    expect(hearth.temporary.messages).toEqual([])
  })

  it('keeps the idle lock waiting while a temporary reply is written, then locks and discards it', async () => {
    vi.useFakeTimers()
    try {
      backend.handlers.get_settings = () => ({ autoLockMinutes: 5, retentionDays: null })
      const hearth = new Hearth()
      const starting = hearth.start()
      await vi.advanceTimersByTimeAsync(0)
      await starting
      hearth.startTemporary()
      await hearth.temporary.send('Write a long story')
      await vi.advanceTimersByTimeAsync(6 * 60_000)
      expect(backend.called('vault_lock')).toHaveLength(0)

      const call = backend.called('send_temporary')[0]
      emit(call, { event: 'done', data: { messageId: call.args.requestId as string, status: 'complete' } })
      await vi.advanceTimersByTimeAsync(6 * 60_000)
      expect(backend.called('vault_lock')).toHaveLength(1)
      expect(hearth.temporary.active).toBe(false)
      expect(hearth.temporary.messages).toEqual([])
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('conversations changing behind the sidebar', () => {
  it('reloads the list and leaves the open conversation if it was deleted', async () => {
    const hearth = await started()
    await hearth.openConversation('c2')
    conversations = [conversations[0]]
    await hearth.reloadConversations()
    expect(hearth.list.items.map((c) => c.id)).toEqual(['c1'])
    expect(hearth.chat.currentId).toBeNull()
  })

  it('keeps the open conversation when it is still there', async () => {
    const hearth = await started()
    await hearth.openConversation('c1')
    conversations = [...conversations, summary('c3', 1, false, 'Imported')]
    await hearth.reloadConversations()
    expect(hearth.list.items.map((c) => c.id)).toEqual(['c1', 'c2', 'c3'])
    expect(hearth.chat.currentId).toBe('c1')
  })
})

describe('erasing everything', () => {
  it('sends the confirmation word and goes back to first-run setup', async () => {
    backend.handlers.erase_everything = ({ confirmation }) => {
      if (confirmation !== 'erase') throw commandError('Invalid', 'type erase')
      state = 'notCreated'
      return { keptKeychainEntries: [], keptBecause: null }
    }
    const hearth = await started()
    hearth.openSettings('data')
    hearth.startTemporary()
    await hearth.eraseEverything()
    expect(backend.called('erase_everything')[0].args).toEqual({ confirmation: 'erase' })
    expect(hearth.vault.screen).toBe('setup')
    expect(hearth.settingsOpen).toBe(false)
    expect(hearth.list.items).toEqual([])
    expect(hearth.temporary.active).toBe(false)
    expect(hearth.vault.status?.state).toBe('notCreated')
    expect(hearth.vault.keptAfterErase).toBeNull()
  })

  it('stays where it is when the engine refuses', async () => {
    backend.handlers.erase_everything = () => {
      throw commandError('Internal', 'The vault file is in use.')
    }
    const hearth = await started()
    await expect(hearth.eraseEverything()).rejects.toMatchObject({ message: 'The vault file is in use.' })
    expect(hearth.vault.screen).toBe('main')
    expect(hearth.list.items).toHaveLength(2)
  })
})
