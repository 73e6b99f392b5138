// The temporary chat against a fake backend: what it sends, what it shows, and that it
// never asks the engine to save anything.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { commandError, deferred, emit, fakeBackend, resetBackend, settle, type FakeBackend } from '../test/backend'
import { message, provider } from '../test/fixtures'
import { ManualFrames } from '../test/frames'
import { TemporaryChatStore, turnsOf } from './temporary.svelte'
import type { TemporaryStartedDto } from './types'

const providers = [
  provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' }),
  provider('ollama', { local: true, defaultModel: 'llama' }),
]

/** The only commands a temporary chat may use. */
const ALLOWED = new Set(['send_temporary', 'cancel_reply'])

let backend: FakeBackend
let frames: ManualFrames
let chat: TemporaryChatStore

function started(requestId: string, model = 'gpt-test'): TemporaryStartedDto {
  return { requestId, providerId: 'openai', model }
}

/** Answers every send_temporary at once with its request id. */
function answering() {
  backend.handlers.send_temporary = ({ requestId }) => started(requestId)
}

beforeEach(() => {
  backend = fakeBackend({ cancel_reply: () => true })
  frames = new ManualFrames()
  chat = new TemporaryChatStore({ providers: () => providers, frames, sync: (change) => change() })
})

afterEach(() => {
  chat.discard()
  expect(backend.calls.filter((c) => !ALLOWED.has(c.command))).toEqual([])
  resetBackend()
})

describe('turnsOf', () => {
  it('sends user turns and replies that said something, leaving out failed and empty ones', () => {
    expect(
      turnsOf([
        message('u1', 'user', 'Hi'),
        message('a1', 'assistant', 'Hello'),
        message('u2', 'user', 'And?'),
        message('a2', 'assistant', '', { status: 'error', error: { kind: 'auth', message: 'no' } }),
        message('u3', 'user', 'Again'),
        message('a3', 'assistant', 'Half a rep', { status: 'cancelled' }),
        message('a4', 'assistant', '', { status: 'complete' }),
      ]),
    ).toEqual([
      { fromUser: true, text: 'Hi', attachments: [] },
      { fromUser: false, text: 'Hello', attachments: [] },
      { fromUser: true, text: 'And?', attachments: [] },
      { fromUser: true, text: 'Again', attachments: [] },
      { fromUser: false, text: 'Half a rep', attachments: [] },
    ])
  })
})

describe('TemporaryChatStore', () => {
  it('opens empty with the default provider, each time under a new id', () => {
    expect(chat.active).toBe(false)
    chat.open()
    const first = chat.currentId
    expect(chat.active).toBe(true)
    expect(chat.choice).toEqual({ providerId: 'openai', model: 'gpt-test' })
    expect(chat.messages).toEqual([])
    chat.open()
    expect(chat.currentId).not.toBe(first)
  })

  it('sends the whole chat with the new turn, and streams the reply once per frame', async () => {
    const answer = deferred<TemporaryStartedDto>()
    backend.handlers.send_temporary = () => answer.promise
    chat.open()
    chat.systemPrompt = 'Be brief.'
    chat.draftText = 'Tell me about zebras'
    const sending = chat.send(chat.draftText)

    expect(chat.draftText).toBe('')
    expect(chat.streaming).toBe(true)
    expect(chat.messages.map((m) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Tell me about zebras', 'complete'],
      ['assistant', '', 'streaming'],
    ])
    const [call] = backend.called('send_temporary')
    const requestId = call.args.requestId as string
    expect(call.args).toMatchObject({
      turns: [{ fromUser: true, text: 'Tell me about zebras', attachments: [] }],
      systemPrompt: 'Be brief.',
      providerId: 'openai',
      model: 'gpt-test',
    })

    emit(call, { event: 'text', data: { text: 'Zebras ' } })
    emit(call, { event: 'reasoning', data: { text: 'Stripes…' } })
    emit(call, { event: 'text', data: { text: 'have stripes.' } })
    expect(chat.messages[1].content).toBe('')
    frames.frame()
    expect(chat.messages[1].content).toBe('Zebras have stripes.')
    expect(chat.messages[1].reasoning).toBe('Stripes…')

    answer.resolve({ requestId, providerId: 'openai', model: 'gpt-test-2024' })
    await sending
    expect(chat.messages[1].model).toBe('gpt-test-2024')

    emit(call, { event: 'done', data: { messageId: requestId, status: 'complete' } })
    expect(chat.streaming).toBe(false)
    expect(chat.messages[1].status).toBe('complete')
    expect(chat.regenerableId).toBe(chat.messages[1].id)

    // The next message carries every earlier turn.
    answering()
    await chat.send('And giraffes?')
    expect(backend.called('send_temporary')[1].args.turns).toEqual([
      { fromUser: true, text: 'Tell me about zebras', attachments: [] },
      { fromUser: false, text: 'Zebras have stripes.', attachments: [] },
      { fromUser: true, text: 'And giraffes?', attachments: [] },
    ])
  })

  it('leaves out an empty system prompt and an unpicked model', async () => {
    answering()
    chat.open()
    await chat.setChoice({ providerId: 'ollama', model: '  ' })
    await chat.send('Hi')
    const args = backend.called('send_temporary')[0].args
    expect(args.providerId).toBe('ollama')
    expect('model' in args).toBe(false)
    expect('systemPrompt' in args).toBe(false)
  })

  it('regenerates the last reply by sending the turns before it again', async () => {
    answering()
    chat.open()
    await chat.send('Hi')
    const first = backend.called('send_temporary')[0]
    emit(first, { event: 'text', data: { text: 'Hello!' } })
    emit(first, { event: 'done', data: { messageId: first.args.requestId as string, status: 'complete' } })
    const oldReply = chat.messages[1].id

    await chat.regenerate(oldReply)
    const second = backend.called('send_temporary')[1]
    expect(second.args.turns).toEqual([{ fromUser: true, text: 'Hi', attachments: [] }])
    expect(second.args.requestId).not.toBe(first.args.requestId)
    expect(chat.messages.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'streaming'],
    ])
    expect(chat.messages[1].id).not.toBe(oldReply)

    // Only the last reply can be asked again, and not while one is being written.
    await chat.regenerate(chat.messages[1].id)
    expect(backend.called('send_temporary')).toHaveLength(2)
  })

  it('shows a failed reply with its error, and a retry resends without it', async () => {
    answering()
    chat.open()
    await chat.send('Hi')
    const call = backend.called('send_temporary')[0]
    emit(call, {
      event: 'error',
      data: { messageId: call.args.requestId as string, error: { kind: 'RateLimited', message: 'Slow down.' } },
    })
    expect(chat.messages[1]).toMatchObject({ status: 'error', error: { kind: 'RateLimited', message: 'Slow down.' } })
    expect(chat.streaming).toBe(false)

    await chat.regenerate(chat.messages[1].id)
    expect(backend.called('send_temporary')[1].args.turns).toEqual([{ fromUser: true, text: 'Hi', attachments: [] }])
  })

  it('stops the reply with cancel_reply and keeps what arrived', async () => {
    answering()
    chat.open()
    await chat.send('Write a long story')
    const call = backend.called('send_temporary')[0]
    const requestId = call.args.requestId as string
    emit(call, { event: 'text', data: { text: 'Once upon' } })
    frames.frame()

    await chat.stop()
    expect(backend.called('cancel_reply').map((c) => c.args)).toEqual([{ id: requestId }])
    expect(chat.stopping).toBe(true)
    await chat.stop()
    expect(backend.called('cancel_reply')).toHaveLength(1)

    emit(call, { event: 'done', data: { messageId: requestId, status: 'cancelled' } })
    expect(chat.stopping).toBe(false)
    expect(chat.messages[1]).toMatchObject({ content: 'Once upon', status: 'cancelled' })
  })

  it('takes a refused message back into the composer and says why', async () => {
    backend.handlers.send_temporary = () => {
      throw commandError('Invalid', 'Add an API key for OpenAI first.')
    }
    chat.open()
    chat.draftText = 'Hello?'
    await chat.send(chat.draftText)
    expect(chat.messages).toEqual([])
    expect(chat.draftText).toBe('Hello?')
    expect(chat.notice).toBe('Add an API key for OpenAI first.')
    expect(chat.streaming).toBe(false)
  })

  it('discards everything, stops a running reply, and ignores what still arrives for it', async () => {
    answering()
    chat.open()
    await chat.send('Secret question')
    const call = backend.called('send_temporary')[0]
    chat.draftText = 'half typed'
    expect(chat.hasContent).toBe(true)

    chat.discard()
    await settle()
    expect(backend.called('cancel_reply').map((c) => c.args)).toEqual([{ id: call.args.requestId }])
    expect(chat.active).toBe(false)
    expect(chat.messages).toEqual([])
    expect(chat.draftText).toBe('')
    expect(chat.hasContent).toBe(false)

    emit(call, { event: 'text', data: { text: 'late' } })
    emit(call, { event: 'done', data: { messageId: call.args.requestId as string, status: 'complete' } })
    frames.frame()
    expect(chat.messages).toEqual([])
  })

  it('counts typed text as content worth asking about', () => {
    chat.open()
    expect(chat.hasContent).toBe(false)
    chat.systemPrompt = 'Pirate voice'
    expect(chat.hasContent).toBe(true)
    chat.systemPrompt = '   '
    chat.draftText = 'x'
    expect(chat.hasContent).toBe(true)
  })

  it('does nothing while closed, and picks a model without telling the engine', async () => {
    answering()
    await chat.send('nobody here')
    expect(backend.calls).toEqual([])
    chat.open()
    await chat.setChoice({ providerId: 'ollama', model: 'llama' })
    expect(chat.choice).toEqual({ providerId: 'ollama', model: 'llama' })
    expect(backend.calls).toEqual([])
  })

  it('moves to the default provider when the chosen one loses its key', () => {
    const list = [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' }), provider('groq', { keyHint: '…zz' })]
    const store = new TemporaryChatStore({ providers: () => list, frames, sync: (change) => change() })
    store.open()
    void store.setChoice({ providerId: 'groq', model: 'mixtral' })
    store.providersChanged()
    expect(store.choice.providerId).toBe('groq')
    list[1] = { ...list[1], keyHint: null }
    store.providersChanged()
    expect(store.choice).toEqual({ providerId: 'openai', model: 'gpt-test' })
  })
})
