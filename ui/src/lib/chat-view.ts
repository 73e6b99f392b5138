// What the chat view shows: the conversation's visible branch as the engine last sent it,
// with the replies being written laid over it. A reply is "live" from the moment the user
// presses send until the engine's saved copy has caught up; until the engine has said
// which messages it created, the live reply stands in for them (the user's text and an
// empty streaming reply), so the view never waits for the network.

import type { CommandError, MessageDto, MessageStatusDto, ToolCallDto } from './types'

/** How a live reply began: a new message, another answer to a reply, or an edited message. */
export type LiveKind = 'send' | 'regenerate' | 'edit'

export interface LiveReply {
  /** The id the UI chose; cancel with it. */
  requestId: string
  kind: LiveKind
  /** The conversation, once known (a new chat learns it when the reply starts). */
  conversationId: string | null
  /** Regenerate: the reply asked again. Edit: the user message edited. */
  anchorId: string | null
  /** The user's text, for send and edit. */
  userText: string | null
  /** The engine's ids, once the reply has started. */
  userMessageId: string | null
  messageId: string | null
  /** What has arrived (as of the last frame). */
  content: string
  reasoning: string
  /** The tool calls the reply made so far, as their last event told. */
  toolCalls: ToolCallDto[]
  /** `streaming` until the engine says how it ended. */
  status: MessageStatusDto
  error: CommandError | null
  providerId: string | null
  model: string | null
  /** The engine answered the request (ids known). */
  started: boolean
  /** A `done` or `error` arrived. */
  finished: boolean
  /** The user asked to stop it. */
  stopping: boolean
  createdAt: number
}

export function newLiveReply(init: {
  requestId: string
  kind: LiveKind
  conversationId: string | null
  anchorId?: string | null
  userText?: string | null
  providerId?: string | null
  model?: string | null
  now?: number
}): LiveReply {
  return {
    requestId: init.requestId,
    kind: init.kind,
    conversationId: init.conversationId,
    anchorId: init.anchorId ?? null,
    userText: init.userText ?? null,
    userMessageId: null,
    messageId: null,
    content: '',
    reasoning: '',
    toolCalls: [],
    status: 'streaming',
    error: null,
    providerId: init.providerId ?? null,
    model: init.model ?? null,
    started: false,
    finished: false,
    stopping: false,
    createdAt: init.now ?? Date.now(),
  }
}

/** The id a live reply's stand-in assistant message has before the engine names it. */
export function pendingReplyId(requestId: string): string {
  return `pending-reply-${requestId}`
}

/** The id a live reply's stand-in user message has before the engine names it. */
export function pendingUserId(requestId: string): string {
  return `pending-user-${requestId}`
}

/** Whether a message id is a stand-in the engine has not named yet. */
export function isPendingId(id: string): boolean {
  return id.startsWith('pending-')
}

function errorOf(live: LiveReply): MessageDto['error'] {
  return live.error === null ? null : { kind: live.error.kind, message: live.error.message }
}

/** Puts `call` into `calls`: in place of the one with its id, else at the end. */
export function withCall(calls: readonly ToolCallDto[], call: ToolCallDto): ToolCallDto[] {
  const at = calls.findIndex((c) => c.id === call.id)
  if (at === -1) return [...calls, call]
  const next = [...calls]
  next[at] = call
  return next
}

/** The saved calls with the live ones laid over them (a live event is the newer word). */
function mergedCalls(saved: readonly ToolCallDto[], live: readonly ToolCallDto[]): ToolCallDto[] {
  let calls = [...saved]
  for (const call of live) calls = withCall(calls, call)
  return calls
}

/** The live reply laid over the engine's copy of the same message. */
function overlay(message: MessageDto, live: LiveReply): MessageDto {
  return {
    ...message,
    // The saved copy lags (the engine saves every ~250 ms); the longer text is the newer.
    content: live.content.length >= message.content.length ? live.content : message.content,
    reasoning:
      live.reasoning.length >= (message.reasoning ?? '').length && live.reasoning !== ''
        ? live.reasoning
        : message.reasoning,
    status: live.status,
    error: errorOf(live) ?? message.error,
    toolCalls: mergedCalls(message.toolCalls ?? [], live.toolCalls),
  }
}

function standInUser(live: LiveReply, parentId: string | null): MessageDto {
  const id = live.userMessageId ?? pendingUserId(live.requestId)
  return {
    id,
    conversationId: live.conversationId ?? '',
    parentId,
    role: 'user',
    content: live.userText ?? '',
    reasoning: null,
    status: 'complete',
    error: null,
    providerId: null,
    model: null,
    tokensIn: null,
    tokensOut: null,
    createdAt: live.createdAt,
    finishedAt: live.createdAt,
    siblings: [id],
    attachments: [],
    toolCalls: [],
  }
}

function standInReply(live: LiveReply, parentId: string | null): MessageDto {
  const id = live.messageId ?? pendingReplyId(live.requestId)
  return {
    id,
    conversationId: live.conversationId ?? '',
    parentId,
    role: 'assistant',
    content: live.content,
    reasoning: live.reasoning === '' ? null : live.reasoning,
    status: live.status,
    error: errorOf(live),
    providerId: live.providerId,
    model: live.model,
    tokensIn: null,
    tokensOut: null,
    createdAt: live.createdAt,
    finishedAt: null,
    siblings: [id],
    attachments: [],
    toolCalls: [...live.toolCalls],
  }
}

/**
 * The messages to show: `messages` (the engine's visible branch, root first) with each of
 * `lives` applied. A live reply the engine's copy already contains is laid over it;
 * otherwise it replaces what it will replace (the reply being asked again, the message
 * being edited and everything after) with its stand-ins.
 */
export function displayMessages(messages: readonly MessageDto[], lives: readonly LiveReply[]): MessageDto[] {
  let shown = [...messages]
  for (const live of lives) {
    const at = live.messageId === null ? -1 : shown.findIndex((m) => m.id === live.messageId)
    if (at !== -1) {
      shown[at] = overlay(shown[at], live)
      continue
    }
    if (live.kind === 'regenerate' || live.kind === 'edit') {
      const cut = live.anchorId === null ? -1 : shown.findIndex((m) => m.id === live.anchorId)
      if (cut !== -1) shown = shown.slice(0, cut)
    }
    const last = shown[shown.length - 1]
    let parentId = last?.id ?? null
    if (live.kind !== 'regenerate') {
      const user = standInUser(live, parentId)
      shown.push(user)
      parentId = user.id
    }
    shown.push(standInReply(live, parentId))
  }
  return shown
}

/** The reply a regenerate button belongs on: the last message, when it is an assistant's. */
export function lastAssistantId(messages: readonly MessageDto[]): string | null {
  const last = messages[messages.length - 1]
  return last !== undefined && last.role === 'assistant' ? last.id : null
}

/** "2/3" for the branch switcher, or null when a message has no alternatives. */
export function branchPosition(message: MessageDto): { index: number; count: number } | null {
  const count = message.siblings?.length ?? 0
  if (count < 2) return null
  const index = message.siblings.indexOf(message.id)
  return index === -1 ? null : { index, count }
}

/** A fresh request id for a send, regenerate or edit. */
export function newRequestId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  return `r-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}
