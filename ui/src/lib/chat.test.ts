import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { commandError, deferred, emit, fakeBackend, resetBackend, settle, type FakeBackend } from '../test/backend'
import { conversation, message, provider } from '../test/fixtures'
import { ManualFrames } from '../test/frames'
import { ChatStore } from './chat.svelte'
import { ConversationListStore } from './conversations.svelte'
import type { ConversationViewDto, ReplyStartedDto } from './types'

const providers = [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })]

/** The engine's copy of each conversation, as open_conversation returns it. */
let views: Record<string, ConversationViewDto>
let backend: FakeBackend
let frames: ManualFrames
let list: ConversationListStore
let chat: ChatStore

function started(conversationId: string, userMessageId: string, messageId: string, requestId = 'r'): ReplyStartedDto {
  return { requestId, conversationId, userMessageId, messageId }
}

beforeEach(async () => {
  views = {
    c1: {
      conversation: conversation('c1', { title: 'Zebras' }),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [message('u1', 'user', 'Hi'), message('a1', 'assistant', 'Hello!', { parentId: 'u1' })],
    },
  }
  backend = fakeBackend({
    open_conversation: ({ id }) => {
      const view = views[id]
      if (view === undefined) throw commandError('NotFound', 'no such conversation')
      return structuredClone(view)
    },
    list_unfiled_conversations: () => [],
    cancel_reply: () => true,
  })
  frames = new ManualFrames()
  list = new ConversationListStore()
  chat = new ChatStore({ list, providers: () => providers, frames, sync: (change) => change() })
  await list.loadMore()
})

afterEach(() => {
  chat.reset()
  resetBackend()
})

describe('a new chat', () => {
  it('shows the message at once, streams the reply, then becomes the saved conversation', async () => {
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.send_message = () => answer.promise
    chat.newChat()
    expect(chat.choice).toEqual({ providerId: 'openai', model: 'gpt-test' })
    chat.draftText = 'Tell me about zebras'

    const sending = chat.send(chat.draftText)
    expect(chat.draftText).toBe('')
    expect(chat.streaming).toBe(true)
    expect(chat.shown.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Tell me about zebras', 'complete'],
      ['assistant', '', 'streaming'],
    ])
    const [call] = backend.called('send_message')
    expect(call.args).toMatchObject({ text: 'Tell me about zebras', providerId: 'openai', model: 'gpt-test' })
    expect(call.args.conversationId).toBeUndefined()
    expect(typeof call.args.requestId).toBe('string')

    // Text can arrive before the command itself answers; it shows on the next frame.
    emit(call, { event: 'text', data: { text: 'Zebras ' } })
    emit(call, { event: 'reasoning', data: { text: 'Stripes...' } })
    expect(chat.shown[1].content).toBe('')
    frames.frame()
    expect(chat.shown[1].content).toBe('Zebras ')
    expect(chat.shown[1].reasoning).toBe('Stripes...')

    views.c2 = {
      conversation: conversation('c2', { title: 'Tell me about zebras', updatedAt: 99 }),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [
        message('u9', 'user', 'Tell me about zebras', { conversationId: 'c2' }),
        message('a9', 'assistant', '', { conversationId: 'c2', status: 'streaming', parentId: 'u9' }),
      ],
    }
    answer.resolve(started('c2', 'u9', 'a9', call.args.requestId as string))
    await settle()
    expect(chat.currentId).toBe('c2')
    expect(chat.shown.map((m) => m.id)).toEqual(['u9', 'a9'])
    expect(chat.shown[1].content).toBe('Zebras ')
    expect(list.items.map((c) => c.id)).toEqual(['c2'])
    expect(list.items[0].title).toBe('Tell me about zebras')

    emit(call, { event: 'text', data: { text: 'have stripes.' } })
    frames.frame()
    expect(chat.shown[1].content).toBe('Zebras have stripes.')

    views.c2.messages[1] = { ...views.c2.messages[1], content: 'Zebras have stripes.', status: 'complete', tokensIn: 12, tokensOut: 4 }
    emit(call, { event: 'done', data: { messageId: 'a9', status: 'complete' } })
    await sending
    await settle()
    expect(chat.lives).toEqual([])
    expect(chat.streaming).toBe(false)
    expect(chat.shown[1]).toMatchObject({ content: 'Zebras have stripes.', status: 'complete', tokensOut: 4 })
  })

  it('settles even when the end of the reply arrives before the command answers', async () => {
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.send_message = () => answer.promise
    chat.newChat()
    const sending = chat.send('Quick one')
    const [call] = backend.called('send_message')
    emit(call, { event: 'text', data: { text: 'Done.' } })
    emit(call, { event: 'done', data: { messageId: 'a5', status: 'complete' } })
    expect(chat.shown[1]).toMatchObject({ content: 'Done.', status: 'complete' })

    views.c5 = {
      conversation: conversation('c5'),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [message('u5', 'user', 'Quick one'), message('a5', 'assistant', 'Done.', { parentId: 'u5' })],
    }
    answer.resolve(started('c5', 'u5', 'a5'))
    await sending
    await settle()
    expect(chat.lives).toEqual([])
    expect(chat.currentId).toBe('c5')
    expect(chat.shown.map((m) => m.content)).toEqual(['Quick one', 'Done.'])
  })

  it('ends a short reply correctly even when it finishes while its conversation is being opened', async () => {
    backend.handlers.send_message = () => started('c3', 'u3', 'a3')
    const stale = deferred<ConversationViewDto>()
    let opened = 0
    const final: ConversationViewDto = {
      conversation: conversation('c3'),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [message('u3', 'user', 'Hi'), message('a3', 'assistant', 'All of it.', { parentId: 'u3' })],
    }
    backend.handlers.open_conversation = () => (opened++ === 0 ? stale.promise : structuredClone(final))
    chat.newChat()
    const sending = chat.send('Hi')
    await settle()
    const [call] = backend.called('send_message')
    emit(call, { event: 'text', data: { text: 'All of it.' } })
    emit(call, { event: 'done', data: { messageId: 'a3', status: 'complete' } })
    // The first load was answered before the reply ended: it still says "streaming".
    stale.resolve({
      conversation: conversation('c3'),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [message('u3', 'user', 'Hi'), message('a3', 'assistant', 'All', { status: 'streaming', parentId: 'u3' })],
    })
    await sending
    await settle()
    expect(chat.lives).toEqual([])
    expect(chat.currentId).toBe('c3')
    expect(chat.shown.at(-1)).toMatchObject({ id: 'a3', content: 'All of it.', status: 'complete' })
  })

  it('gives the text back when the engine refuses before saving anything', async () => {
    backend.handlers.send_message = () => {
      throw commandError('Invalid', 'no API key for openai: add one in Settings')
    }
    chat.newChat()
    chat.draftText = 'Hello?'
    await chat.send('Hello?')
    await settle()
    expect(chat.shown).toEqual([])
    expect(chat.lives).toEqual([])
    expect(chat.draftText).toBe('Hello?')
    expect(chat.notice).toBe('no API key for openai: add one in Settings')
  })

  it('finds and opens the conversation the engine created when the reply then failed to start', async () => {
    backend.handlers.send_message = () => {
      throw commandError('ProviderError', 'could not connect to the provider')
    }
    views.c7 = {
      conversation: conversation('c7'),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [
        message('u7', 'user', 'Anyone there?'),
        message('a7', 'assistant', '', { status: 'error', error: { kind: 'network', message: 'could not connect' }, parentId: 'u7' }),
      ],
    }
    backend.handlers.list_unfiled_conversations = () => [
      { id: 'c7', title: 'Anyone there?', updatedAt: 10, messageCount: 2, pinned: false, archived: false },
    ]
    chat.newChat()
    await chat.send('Anyone there?')
    await settle()
    expect(chat.currentId).toBe('c7')
    expect(chat.shown.at(-1)).toMatchObject({ status: 'error' })
    // The failed reply shows its own banner; no second message above the composer.
    expect(chat.notice).toBeNull()
  })
})

describe('an existing conversation', () => {
  beforeEach(async () => {
    await chat.open('c1')
  })

  it('opens with its own provider and model', () => {
    expect(chat.conversation?.title).toBe('Zebras')
    expect(chat.choice).toEqual({ providerId: 'openai', model: 'gpt-test' })
    expect(chat.shown.map((m) => m.id)).toEqual(['u1', 'a1'])
  })

  it('stops a reply by its request id and keeps what arrived, marked cancelled', async () => {
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.send_message = () => answer.promise
    const sending = chat.send('Go on')
    const [call] = backend.called('send_message')
    expect(call.args.conversationId).toBe('c1')
    answer.resolve(started('c1', 'u2', 'a2'))
    views.c1.messages.push(message('u2', 'user', 'Go on'), message('a2', 'assistant', '', { status: 'streaming' }))
    await settle()
    emit(call, { event: 'text', data: { text: 'Partial answer, ' } })
    frames.frame()

    await chat.stop()
    expect(backend.called('cancel_reply').map((c) => c.args.id)).toEqual([call.args.requestId])
    expect(chat.currentLives[0].stopping).toBe(true)

    views.c1.messages[3] = { ...views.c1.messages[3], content: 'Partial answer, ', status: 'cancelled' }
    emit(call, { event: 'done', data: { messageId: 'a2', status: 'cancelled' } })
    await sending
    await settle()
    expect(chat.shown.at(-1)).toMatchObject({ id: 'a2', content: 'Partial answer, ', status: 'cancelled' })
    expect(chat.streaming).toBe(false)
  })

  it('shows a failed reply with its error', async () => {
    backend.handlers.send_message = () => started('c1', 'u2', 'a2')
    views.c1.messages.push(message('u2', 'user', 'Hm'), message('a2', 'assistant', '', { status: 'streaming' }))
    const sending = chat.send('Hm')
    await settle()
    const [call] = backend.called('send_message')
    // The engine saves how the reply ended before it tells the UI.
    views.c1.messages[3] = {
      ...views.c1.messages[3],
      status: 'error',
      error: { kind: 'rate_limited', message: 'Too many requests; try again in 20 s.' },
    }
    emit(call, { event: 'error', data: { messageId: 'a2', error: commandError('RateLimited', 'Too many requests; try again in 20 s.') } })
    expect(chat.shown.at(-1)).toMatchObject({ status: 'error', error: { kind: 'RateLimited' } })
    await sending
    await settle()
    expect(chat.shown.at(-1)).toMatchObject({ id: 'a2', status: 'error' })
    expect(chat.shown.at(-1)?.error?.message).toMatch(/Too many requests/)
  })

  it('refreshes to show a failed start the engine saved, without a second notice', async () => {
    backend.handlers.send_message = () => {
      views.c1.messages.push(
        message('u2', 'user', 'Anyone?'),
        message('a2', 'assistant', '', { status: 'error', error: { kind: 'auth', message: 'The key was refused.' } }),
      )
      throw commandError('ProviderAuth', 'The key was refused.')
    }
    await chat.send('Anyone?')
    await settle()
    expect(chat.shown.map((m) => m.id)).toEqual(['u1', 'a1', 'u2', 'a2'])
    expect(chat.notice).toBeNull()
    expect(chat.draftText).toBe('')
  })

  it('regenerates the last reply in its place', async () => {
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.regenerate_reply = () => answer.promise
    const running = chat.regenerate('a1')
    expect(backend.called('regenerate_reply')[0].args).toMatchObject({ messageId: 'a1' })
    expect(chat.shown.map((m) => m.role)).toEqual(['user', 'assistant'])
    expect(chat.shown[1]).toMatchObject({ status: 'streaming', content: '' })
    expect(chat.regenerableId).toBeNull()

    views.c1.messages[1] = message('a1b', 'assistant', 'Hi again!', { siblings: ['a1', 'a1b'] })
    answer.resolve(started('c1', 'u1', 'a1b'))
    const [call] = backend.called('regenerate_reply')
    await settle()
    emit(call, { event: 'done', data: { messageId: 'a1b', status: 'complete' } })
    await running
    await settle()
    expect(chat.shown[1]).toMatchObject({ id: 'a1b', siblings: ['a1', 'a1b'] })
    expect(chat.regenerableId).toBe('a1b')
  })

  it('edits a message: the edit and a new reply replace the old branch', async () => {
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.edit_message = () => answer.promise
    void chat.edit('u1', 'Hey')
    expect(backend.called('edit_message')[0].args).toMatchObject({ messageId: 'u1', text: 'Hey' })
    expect(chat.shown.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Hey'],
      ['assistant', ''],
    ])
  })

  it('switches branches with select_branch', async () => {
    backend.handlers.select_branch = ({ messageId }) => ({
      conversation: views.c1.conversation,
      messages: [views.c1.messages[0], message(messageId, 'assistant', 'Other answer', { siblings: ['a1', messageId] })],
    })
    await chat.selectBranch('a0')
    expect(backend.called('select_branch')[0].args).toEqual({ messageId: 'a0' })
    expect(chat.shown[1].content).toBe('Other answer')
  })

  it('keeps a model change for the conversation, but not for a new chat', async () => {
    backend.handlers.set_conversation_model = () => null
    await chat.setChoice({ providerId: 'openai', model: 'gpt-bigger' })
    expect(backend.called('set_conversation_model')[0].args).toEqual({ id: 'c1', providerId: 'openai', model: 'gpt-bigger' })
    expect(chat.conversation?.model).toBe('gpt-bigger')

    await chat.setChoice({ providerId: 'openai', model: 'gpt-bigger' })
    await chat.setChoice({ providerId: 'openai', model: '  ' })
    chat.newChat()
    await chat.setChoice({ providerId: 'openai', model: 'other' })
    expect(backend.called('set_conversation_model')).toHaveLength(1)
    expect(chat.choice.model).toBe('other')
  })

  it('saves the system prompt, and a blank one as none', async () => {
    backend.handlers.set_system_prompt = () => null
    expect(await chat.saveSystemPrompt('Answer in French.')).toBe(true)
    expect(chat.conversation?.systemPrompt).toBe('Answer in French.')
    await chat.saveSystemPrompt('   ')
    expect(backend.called('set_system_prompt').map((c) => c.args)).toEqual([
      { id: 'c1', prompt: 'Answer in French.' },
      { id: 'c1', prompt: null },
    ])
    expect(chat.conversation?.systemPrompt).toBeNull()
  })

  it('keeps a reply streaming in one conversation out of another', async () => {
    views.c2 = { conversation: conversation('c2'), toolServers: [], settings: { temperature: null, maxTokens: null, reasoning: null }, messages: [message('x1', 'user', 'Elsewhere')] }
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.send_message = () => answer.promise
    void chat.send('Long question')
    await chat.open('c2')
    expect(chat.shown.map((m) => m.id)).toEqual(['x1'])
    expect(chat.streaming).toBe(false)
    expect(chat.busy).toBe(true)

    await chat.open('c1')
    expect(chat.shown.map((m) => m.content)).toEqual(['Hi', 'Hello!', 'Long question', ''])
  })

  it('keeps the final state of a reply when the reloaded copy still says streaming', async () => {
    backend.handlers.send_message = () => started('c1', 'u2', 'a2')
    views.c1.messages.push(message('u2', 'user', 'Hm'), message('a2', 'assistant', 'Par', { status: 'streaming' }))
    const sending = chat.send('Hm')
    await settle()
    const [call] = backend.called('send_message')
    emit(call, { event: 'text', data: { text: 'Partial' } })
    emit(call, { event: 'done', data: { messageId: 'a2', status: 'cancelled' } })
    await sending
    await settle()
    expect(chat.lives).toEqual([])
    expect(chat.shown.at(-1)).toMatchObject({ id: 'a2', content: 'Partial', status: 'cancelled' })
  })

  it('drops an answer for a conversation the user already left', async () => {
    const slow = deferred<ConversationViewDto>()
    backend.handlers.open_conversation = ({ id }) => (id === 'slow' ? slow.promise : structuredClone(views[id]))
    const opening = chat.open('slow')
    await chat.open('c1')
    slow.resolve({ conversation: conversation('slow'), toolServers: [], settings: { temperature: null, maxTokens: null, reasoning: null }, messages: [] })
    await opening
    expect(chat.currentId).toBe('c1')
  })
})

describe('provider changes', () => {
  it('gives a new chat the default once a provider becomes usable, and keeps a working pick', () => {
    const list = new ConversationListStore()
    let available = [provider('openai'), provider('ollama', { local: true, defaultModel: 'llama3' })]
    const store = new ChatStore({ list, providers: () => available, frames: new ManualFrames(), sync: (c) => c() })
    store.newChat()
    expect(store.choice).toEqual({ providerId: 'ollama', model: 'llama3' })

    // A key is added for OpenAI and it becomes the default: the local pick still works, so it stays.
    available = [provider('openai', { keyHint: '…abcd', isDefault: true }), provider('ollama', { local: true })]
    store.providersChanged()
    expect(store.choice.providerId).toBe('ollama')

    // The picked provider goes away: the new chat falls back to the default.
    available = [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-x' })]
    store.providersChanged()
    expect(store.choice).toEqual({ providerId: 'openai', model: 'gpt-x' })
  })
})
