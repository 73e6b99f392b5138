import { describe, expect, it } from 'vitest'
import { message } from '../test/fixtures'
import {
  branchPosition,
  displayMessages,
  isPendingId,
  lastAssistantId,
  newLiveReply,
  pendingReplyId,
  pendingUserId,
} from './chat-view'

const branch = [
  message('u1', 'user', 'Hi'),
  message('a1', 'assistant', 'Hello!'),
  message('u2', 'user', 'Tell me more'),
  message('a2', 'assistant', 'More.'),
]

const view = (list: Array<{ id: string; role: string; content: string; status: string }>) =>
  list.map((m) => `${m.role}:${m.id}:${m.status}:${m.content}`)

describe('displayMessages', () => {
  it('shows the engine messages unchanged without live replies', () => {
    expect(displayMessages(branch, [])).toEqual(branch)
  })

  it('adds the user text and a streaming reply for a send the engine has not answered yet', () => {
    const live = newLiveReply({ requestId: 'r1', kind: 'send', conversationId: 'c1', userText: 'And then?', now: 5 })
    live.content = 'So'
    const shown = displayMessages(branch, [live])
    expect(view(shown.slice(4))).toEqual([
      `user:${pendingUserId('r1')}:complete:And then?`,
      `assistant:${pendingReplyId('r1')}:streaming:So`,
    ])
    expect(shown[4].parentId).toBe('a2')
    expect(shown[5].parentId).toBe(pendingUserId('r1'))
  })

  it('uses the engine ids once the reply has started', () => {
    const live = newLiveReply({ requestId: 'r1', kind: 'send', conversationId: 'c1', userText: 'And then?' })
    live.started = true
    live.userMessageId = 'u3'
    live.messageId = 'a3'
    const shown = displayMessages(branch, [live])
    expect(shown.slice(4).map((m) => m.id)).toEqual(['u3', 'a3'])
    expect(shown.some((m) => isPendingId(m.id))).toBe(false)
  })

  it('lays live text over the engine copy of the reply, keeping the longer text', () => {
    const saved = [...branch, message('u3', 'user', 'Q'), message('a3', 'assistant', 'Partial', { status: 'streaming' })]
    const live = newLiveReply({ requestId: 'r1', kind: 'send', conversationId: 'c1', userText: 'Q' })
    live.messageId = 'a3'
    live.content = 'Partial answer that kept going'
    live.reasoning = 'hmm'
    let shown = displayMessages(saved, [live])
    expect(shown).toHaveLength(6)
    expect(shown[5].content).toBe('Partial answer that kept going')
    expect(shown[5].reasoning).toBe('hmm')
    expect(shown[5].status).toBe('streaming')

    // The engine copy is ahead (reloaded after the last frame): it wins.
    live.content = 'Part'
    shown = displayMessages(saved, [live])
    expect(shown[5].content).toBe('Partial')
  })

  it('shows how a live reply ended, with its error', () => {
    const live = newLiveReply({ requestId: 'r1', kind: 'send', conversationId: 'c1', userText: 'Q' })
    live.finished = true
    live.status = 'error'
    live.error = { kind: 'RateLimited', message: 'Slow down.' }
    const last = displayMessages(branch, [live]).at(-1)!
    expect(last.status).toBe('error')
    expect(last.error).toEqual({ kind: 'RateLimited', message: 'Slow down.' })
  })

  it('replaces the reply being regenerated with the new one', () => {
    const live = newLiveReply({ requestId: 'r2', kind: 'regenerate', conversationId: 'c1', anchorId: 'a2' })
    const shown = displayMessages(branch, [live])
    expect(shown.map((m) => m.id)).toEqual(['u1', 'a1', 'u2', pendingReplyId('r2')])
    expect(shown[3].parentId).toBe('u2')
  })

  it('replaces an edited message and everything after it', () => {
    const live = newLiveReply({ requestId: 'r3', kind: 'edit', conversationId: 'c1', anchorId: 'u2', userText: 'Less, please' })
    const shown = displayMessages(branch, [live])
    expect(view(shown)).toEqual([
      'user:u1:complete:Hi',
      'assistant:a1:complete:Hello!',
      `user:${pendingUserId('r3')}:complete:Less, please`,
      `assistant:${pendingReplyId('r3')}:streaming:`,
    ])
  })

  it('starts a new chat from nothing', () => {
    const live = newLiveReply({ requestId: 'r4', kind: 'send', conversationId: null, userText: 'First!' })
    expect(view(displayMessages([], [live]))).toEqual([
      `user:${pendingUserId('r4')}:complete:First!`,
      `assistant:${pendingReplyId('r4')}:streaming:`,
    ])
  })
})

describe('message helpers', () => {
  it('finds the reply a regenerate button belongs on', () => {
    expect(lastAssistantId(branch)).toBe('a2')
    expect(lastAssistantId(branch.slice(0, 3))).toBeNull()
    expect(lastAssistantId([])).toBeNull()
  })

  it('gives the branch position only for messages with alternatives', () => {
    expect(branchPosition(message('a', 'assistant', 'x'))).toBeNull()
    expect(branchPosition(message('b', 'assistant', 'x', { siblings: ['a', 'b', 'c'] }))).toEqual({ index: 1, count: 3 })
    expect(branchPosition(message('z', 'assistant', 'x', { siblings: ['a', 'b'] }))).toBeNull()
  })
})
