// Attachments mounted whole against a fake Rust side: the composer's chips (picked, pasted,
// refused, removed, sent, given back), a message's thumbnails and file chips, the
// full-size view, saving, the blob: URLs' lifetime, hostile names, the Privacy page's
// count, and a temporary chat's files.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import App from './App.svelte'
import { Hearth } from './lib/app.svelte'
import { MAX_ATTACHMENT_BYTES, pasteFiles, PendingAttachments } from './lib/attachments.svelte'
import type { AttachmentDto, ConversationViewDto, PendingFileDto } from './lib/types'
import { commandError, fakeBackend, resetBackend, settle, type FakeBackend } from './test/backend'
import { conversation, message, provider, summary } from './test/fixtures'
import { click, hook, hooks, need, type, until } from './test/dom'

const HOSTILE = '<img src=x onerror=window.__pwned=1>.html'

let app: ReturnType<typeof mount> | null = null
let backend: FakeBackend
let views: Record<string, ConversationViewDto>
let made: string[]
let revoked: string[]

function pending(token: string, name: string, changes: Partial<PendingFileDto> = {}): PendingFileDto {
  return { token, name, size: 2048, mediaType: 'image/png', kind: 'image', ...changes }
}

function stored(id: string, name: string, mediaType: string, kind: string): AttachmentDto {
  return { id, messageId: 'u1', name, mediaType, kind, size: 1234 }
}

beforeEach(() => {
  document.body.innerHTML = ''
  made = []
  revoked = []
  // jsdom has no object URLs; these stand in and record each one's life.
  URL.createObjectURL = vi.fn(() => {
    const url = `blob:hearth/${made.length + 1}`
    made.push(url)
    return url
  })
  URL.revokeObjectURL = vi.fn((url: string) => {
    revoked.push(url)
  })
  views = {
    c1: {
      conversation: conversation('c1', { title: 'Pictures' }),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [
        message('u1', 'user', 'Look at these', {
          attachments: [
            stored('at1', 'cat.png', 'image/png', 'image'),
            stored('at2', 'evil.svg', 'text/plain', 'text'),
            stored('at3', HOSTILE, 'text/plain', 'text'),
            stored('at4', 'paper.pdf', 'application/pdf', 'pdf'),
          ],
        }),
        message('a1', 'assistant', 'Nice cat.', { parentId: 'u1' }),
      ],
    },
  }
  backend = fakeBackend({
    vault_status: () => ({
      state: 'unlocked',
      mode: 'keychain',
      dataDir: '/home/me/hearth',
      conversations: 1,
      messages: 2,
      keychainAvailable: true,
    }),
    get_settings: () => ({ autoLockMinutes: null, retentionDays: null }),
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })],
    list_unfiled_conversations: () => [summary('c1', Date.now(), false, 'Pictures')],
    open_conversation: ({ id }) => structuredClone(views[id]),
    watch_file_drops: () => null,
    discard_attachments: () => null,
    attachment_image: () => new Uint8Array([137, 80, 78, 71]),
    pending_image: () => new Uint8Array([137, 80, 78, 71]),
    cancel_reply: () => true,
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

function chipNames(): string[] {
  return hooks('pending-attachment-name').map((n) => n.textContent ?? '')
}

function paste(files: unknown[]): void {
  const event = new Event('paste', { bubbles: true, cancelable: true })
  Object.defineProperty(event, 'clipboardData', { value: { files, items: [] } })
  need('composer').dispatchEvent(event)
}

describe('the composer', () => {
  it('shows picked files as chips with name and size, and a refusal without adding anything', async () => {
    backend.handlers.pick_attachments = () => ({
      files: [pending('t1', 'cat.png'), pending('t2', HOSTILE, { mediaType: 'text/plain', kind: 'text', size: 38 })],
      refused: ['cannot attach movie.mp4: this kind of file cannot be attached'],
    })
    await start()
    click(need('attach'))
    await until(() => hooks('pending-attachment').length === 2, 'two chips')
    expect(chipNames()).toEqual(['cat.png', HOSTILE])
    // The hostile name is text: no element was made from it.
    expect(document.querySelector('[data-testid="pending-attachment"] img')).toBeNull()
    expect(hooks('pending-attachment')[0].textContent).toContain('2 KB')
    expect(need('attach-error').textContent).toContain('cannot attach movie.mp4')
    expect((window as { __pwned?: unknown }).__pwned).toBeUndefined()
  })

  it('removes a chip and lets the Rust side forget it', async () => {
    backend.handlers.pick_attachments = () => ({ files: [pending('t1', 'a.png'), pending('t2', 'b.png')], refused: [] })
    await start()
    click(need('attach'))
    await until(() => hooks('pending-attachment').length === 2, 'two chips')
    click(hooks('pending-attachment-remove')[0])
    expect(chipNames()).toEqual(['b.png'])
    await settle()
    expect(backend.called('discard_attachments').map((c) => c.args.tokens)).toEqual([['t1']])
  })

  it('sends the chips with the message and gives them back when nothing was saved', async () => {
    backend.handlers.pick_attachments = () => ({ files: [pending('t1', 'a.png')], refused: [] })
    backend.handlers.send_message = () => {
      throw commandError('Invalid', 'cannot attach a.png: the file could not be read; nothing was sent or saved')
    }
    await start()
    click(need('attach'))
    await until(() => hooks('pending-attachment').length === 1, 'a chip')
    type(need('composer'), 'Here it is')
    click(need('send'))
    await until(() => backend.called('send_message').length === 1, 'the send')
    expect(backend.called('send_message')[0].args.attachments).toEqual(['t1'])
    await until(() => hooks('pending-attachment').length === 1, 'the chip back')
    expect((need('composer') as HTMLTextAreaElement).value).toBe('Here it is')
    expect(document.body.textContent).toContain('the file could not be read')
  })

  it('hands pasted images to the Rust side as bytes with their name', async () => {
    backend.handlers.paste_attachment = (bytes: Uint8Array) => {
      expect(Array.from(bytes)).toEqual([137, 80, 78, 71])
      return pending('p1', 'image.png')
    }
    await start()
    paste([new File([new Uint8Array([137, 80, 78, 71])], 'image.png', { type: 'image/png' })])
    await until(() => hooks('pending-attachment').length === 1, 'the pasted chip')
    expect(chipNames()).toEqual(['image.png'])
    expect(backend.called('paste_attachment')).toHaveLength(1)
  })

  it('shows files dropped on the window in the composer', async () => {
    await start()
    const [watch] = backend.called('watch_file_drops')
    const channel = watch.args.onDrop as { onmessage: (m: unknown) => void }
    channel.onmessage({ files: [pending('d1', 'dropped.pdf', { kind: 'pdf', mediaType: 'application/pdf' })], refused: [] })
    flushSync()
    expect(chipNames()).toEqual(['dropped.pdf'])
  })
})

describe('pasteFiles', () => {
  it('refuses a file over 32 MiB before anything crosses IPC', async () => {
    backend.handlers.paste_attachment = () => pending('p1', 'x.png')
    const huge = { name: 'huge.png', size: MAX_ATTACHMENT_BYTES + 1, arrayBuffer: vi.fn() } as unknown as File
    const result = await pasteFiles([huge])
    expect(result.files).toEqual([])
    expect(result.refused[0]).toContain('huge.png')
    expect(huge.arrayBuffer).not.toHaveBeenCalled()
    expect(backend.called('paste_attachment')).toHaveLength(0)
  })

  it('passes on the engine refusal of bytes that are not an attachable file', async () => {
    backend.handlers.paste_attachment = () => {
      throw commandError('Invalid', 'cannot attach blob: this kind of file cannot be attached')
    }
    const result = await pasteFiles([new File([new Uint8Array([0, 1])], 'blob')])
    expect(result).toEqual({ files: [], refused: ['cannot attach blob: this kind of file cannot be attached'] })
  })
})

describe('PendingAttachments', () => {
  it('keeps at most ten files a message and lets the others go', () => {
    fakeBackend({ discard_attachments: () => null })
    const store = new PendingAttachments()
    const files = Array.from({ length: 12 }, (_, i) => pending(`t${i}`, `f${i}.png`))
    store.add('c1', { files, refused: [] })
    expect(store.list('c1')).toHaveLength(10)
    expect(store.refused[0]).toContain('at most 10')
    expect(store.list('other')).toEqual([])
    expect(store.take('c1')).toHaveLength(10)
    expect(store.list('c1')).toEqual([])
    store.restore('c1', [files[0]])
    expect(store.list('c1').map((f) => f.token)).toEqual(['t0'])
  })
})

describe('a message with attachments', () => {
  it('shows images as blob: thumbnails and other files as named chips, never as images', async () => {
    await start()
    click(need('conversation-item'))
    await until(() => hook('attachment-image'), 'the thumbnail')
    const img = need('attachment-image') as HTMLImageElement
    expect(img.getAttribute('src')).toBe('blob:hearth/1')
    expect(backend.called('attachment_image').map((c) => c.args.id)).toEqual(['at1'])
    const names = hooks('attachment-name').map((n) => n.textContent)
    expect(names).toEqual(['evil.svg', HOSTILE, 'paper.pdf'])
    expect(document.querySelectorAll('[data-testid="message-attachments"] img')).toHaveLength(1)
    expect((window as { __pwned?: unknown }).__pwned).toBeUndefined()
  })

  it('opens the image full size and revokes its URL once it is no longer shown', async () => {
    const hearth = await start()
    click(need('conversation-item'))
    await until(() => hook('attachment-image'), 'the thumbnail')
    click(need('attachment-thumbnail'))
    const full = need('attachment-full')
    expect(full.querySelector('img')?.getAttribute('src')).toBe('blob:hearth/1')
    click(need('attachment-full-close'))
    expect(hook('attachment-full')).toBeNull()
    expect(revoked).toEqual([])
    hearth.chat.newChat()
    flushSync()
    expect(revoked).toEqual(['blob:hearth/1'])
  })

  it('saves a file through the save dialog and says where it went', async () => {
    backend.handlers.save_attachment = ({ id }) => (id === 'at4' ? '/home/me/paper.pdf' : null)
    await start()
    click(need('conversation-item'))
    await until(() => hooks('attachment-save').length === 3, 'the save buttons')
    click(hooks('attachment-save')[2])
    await until(() => hook('attachment-saved'), 'the saved note')
    expect(need('attachment-saved').textContent).toBe('Saved paper.pdf to /home/me/paper.pdf')
  })
})

describe('the Privacy page', () => {
  it('counts attachments and their size', async () => {
    backend.handlers.data_inventory = () => ({
      dataDir: '/home/me/hearth',
      mode: 'keychain',
      files: [],
      keyLocation: 'keychain',
      keychainEntries: [],
      keychainError: null,
      providersWithKeys: [],
      conversations: 1,
      archivedConversations: 0,
      messages: 2,
      attachments: 3,
      attachmentBytes: 5 * 1024 * 1024,
      sqlcipherVersion: '4.6.1',
      schemaVersion: 3,
    })
    await start()
    click(need('settings'))
    click(need('settings-tab-about'))
    await until(() => hook('inventory-attachments'), 'the attachments line')
    expect(need('inventory-attachments').textContent).toContain('3 files are attached to messages')
    expect(need('inventory-attachments').textContent).toContain('5 MB')
  })
})

describe('a temporary chat', () => {
  it('sends its files by token with every turn and lets them go when closed', async () => {
    backend.handlers.pick_attachments = () => ({ files: [pending('t1', 'cat.png')], refused: [] })
    backend.handlers.send_temporary = () => ({ requestId: 'r', providerId: 'openai', model: 'gpt-test' })
    const hearth = await start()
    click(need('temporary-chat'))
    await until(() => hook('temporary-chat-view'), 'the temporary chat')
    click(need('attach'))
    await until(() => hooks('pending-attachment').length === 1, 'a chip')
    type(need('composer'), 'What is this?')
    click(need('send'))
    await until(() => backend.called('send_temporary').length === 1, 'the send')
    expect(backend.called('send_temporary')[0].args.turns).toEqual([
      { fromUser: true, text: 'What is this?', attachments: ['t1'] },
    ])
    await until(() => hook('attachment-image'), 'the thumbnail from held bytes')
    expect(backend.called('pending_image').map((c) => c.args.token)).toEqual(['t1'])
    expect(backend.called('send_message')).toHaveLength(0)
    hearth.temporary.discard()
    flushSync()
    expect(backend.called('discard_attachments').map((c) => c.args.tokens)).toContainEqual(['t1'])
  })
})
