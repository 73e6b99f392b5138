// The temporary chat: a conversation that lives only in this window's memory. Its turns
// go to the provider through `send_temporary`, which saves nothing; the store never calls
// a command that writes to the vault (no send_message, no set_conversation_model). Closing
// it, opening anything else, or locking drops every turn.

import { flushSync } from 'svelte'
import { heldAttachment, PendingAttachments, type ShownAttachment } from './attachments.svelte'
import { lastAssistantId, newRequestId } from './chat-view'
import type { ChatSurface } from './chat-surface'
import * as ipc from './ipc'
import { initialChoice, type ModelChoice } from './model-choice'
import { browserFrames, DeltaBuffer, type FrameScheduler } from './streaming'
import type {
  AttachedFilesDto,
  ChatEvent,
  MessageDto,
  MessageStatusDto,
  PendingFileDto,
  ProviderDto,
  TemporaryTurnDto,
} from './types'

export interface TemporaryChatDeps {
  /** The providers as last loaded, for the model picker's default. */
  providers: () => readonly ProviderDto[]
  frames?: FrameScheduler
  /** Applies a state change and renders it before returning (Svelte's `flushSync`). */
  sync?: (change: () => void) => void
}

/** The composer key of the temporary chat's files. */
const COMPOSER = 'temporary'

/**
 * The turns a provider is sent for `messages`: failed and empty replies are left out. A
 * user's turn names its files by token (`filesOf`); the Rust side holds them in memory.
 */
export function turnsOf(
  messages: readonly MessageDto[],
  filesOf: (messageId: string) => readonly PendingFileDto[] = () => [],
): TemporaryTurnDto[] {
  const turns: TemporaryTurnDto[] = []
  for (const message of messages) {
    if (message.role === 'user') {
      turns.push({ fromUser: true, text: message.content, attachments: filesOf(message.id).map((f) => f.token) })
    } else if (message.role === 'assistant' && message.status !== 'error' && message.content !== '') {
      turns.push({ fromUser: false, text: message.content, attachments: [] })
    }
  }
  return turns
}

function memoryMessage(
  id: string,
  role: 'user' | 'assistant',
  content: string,
  status: MessageStatusDto,
  choice: { providerId: string | null; model: string | null } = { providerId: null, model: null },
): MessageDto {
  const now = Date.now()
  return {
    id,
    conversationId: '',
    parentId: null,
    role,
    content,
    reasoning: null,
    status,
    error: null,
    providerId: choice.providerId,
    model: choice.model,
    tokensIn: null,
    tokensOut: null,
    createdAt: now,
    finishedAt: status === 'streaming' ? null : now,
    siblings: [id],
    attachments: [],
    toolCalls: [],
  }
}

export class TemporaryChatStore implements ChatSurface {
  /** No edits or alternatives: regenerate replaces the last reply. */
  readonly branching = false

  /** The temporary chat is open (it replaces the chat view). */
  active = $state(false)
  /** A fresh id per temporary chat (the view starts at its end, the composer takes focus). */
  currentId = $state<string | null>(null)
  /** The turns so far, oldest first; held nowhere else. */
  messages = $state.raw<MessageDto[]>([])
  draftText = $state('')
  /** Instructions sent ahead of the turns (kept in memory like them). */
  systemPrompt = $state('')
  choice = $state<ModelChoice>({ providerId: '', model: '' })
  /** A problem to show above the composer. */
  notice = $state<string | null>(null)
  /** Part of the chat surface; nothing here is ever searched for. */
  focusMessageId = $state<string | null>(null)
  /** Files waiting in the composer. */
  readonly attachments = new PendingAttachments()
  /** The files each user turn carried, by message id (held in memory by the Rust side). */
  private files = $state.raw<Record<string, PendingFileDto[]>>({})

  /** The reply being written. */
  private running = $state<{ requestId: string; stopping: boolean } | null>(null)
  private buffer: DeltaBuffer | null = null
  private userTurns = 0
  private readonly providers: () => readonly ProviderDto[]
  private readonly frames: FrameScheduler
  private readonly sync: (change: () => void) => void

  constructor(deps: TemporaryChatDeps) {
    this.providers = deps.providers
    this.frames = deps.frames ?? browserFrames
    this.sync = deps.sync ?? ((change) => flushSync(change))
  }

  get streaming(): boolean {
    return this.running !== null
  }

  get stopping(): boolean {
    return this.running?.stopping ?? false
  }

  get regenerableId(): string | null {
    return this.streaming ? null : lastAssistantId(this.messages)
  }

  get pendingFiles(): PendingFileDto[] {
    return this.attachments.list(COMPOSER)
  }

  get attachRefused(): string[] {
    return this.attachments.refused
  }

  set attachRefused(lines: string[]) {
    this.attachments.refused = lines
  }

  addFiles(result: AttachedFilesDto): void {
    if (!this.active) {
      void ipc.discardAttachments(result.files.map((f) => f.token)).catch(() => {})
      return
    }
    this.attachments.add(COMPOSER, result)
  }

  removeFile(token: string): void {
    this.attachments.remove(COMPOSER, token)
  }

  attachmentsOf(message: MessageDto): ShownAttachment[] {
    return (this.files[message.id] ?? []).map(heldAttachment)
  }

  /** Something would be lost by closing: turns, files, or text typed in the composer or system prompt. */
  get hasContent(): boolean {
    return (
      this.messages.length > 0 ||
      this.draftText.trim() !== '' ||
      this.systemPrompt.trim() !== '' ||
      this.pendingFiles.length > 0
    )
  }

  /** Starts an empty temporary chat with the default provider. */
  open(): void {
    this.discard()
    this.active = true
    this.currentId = `temporary-${newRequestId()}`
    this.choice = initialChoice(null, this.providers())
  }

  /**
   * Drops everything: the turns, the texts, the reply being written (which is stopped, so
   * the provider stops spending on it).
   */
  discard(): void {
    const running = this.running
    if (running !== null) {
      ipc.cancelReply(running.requestId).catch(() => {
        // Ending anyway: whatever still arrives for it is ignored.
      })
    }
    this.buffer?.dispose()
    this.buffer = null
    this.running = null
    // The Rust side holds the chat's files in memory only; let it forget them now.
    const tokens = [...Object.values(this.files).flat(), ...this.attachments.take(COMPOSER)].map((f) => f.token)
    if (tokens.length > 0) ipc.discardAttachments(tokens).catch(() => {})
    this.files = {}
    this.attachments.reset()
    this.active = false
    this.currentId = null
    this.messages = []
    this.draftText = ''
    this.systemPrompt = ''
    this.notice = null
    this.focusMessageId = null
    this.userTurns = 0
    this.choice = { providerId: '', model: '' }
  }

  /** Sends `text` after the turns so far. */
  async send(text: string): Promise<void> {
    if (!this.active || this.streaming || text.trim() === '') return
    const user = memoryMessage(`temporary-user-${++this.userTurns}`, 'user', text, 'complete')
    const files = this.attachments.take(COMPOSER)
    this.attachments.refused = []
    const turns = [...this.turns(this.messages), { fromUser: true, text, attachments: files.map((f) => f.token) }]
    this.messages = [...this.messages, user]
    if (files.length > 0) this.files = { ...this.files, [user.id]: files }
    this.draftText = ''
    await this.ask(turns, { userId: user.id, text })
  }

  /** Asks again for the last reply: the turns before it are sent once more. */
  async regenerate(messageId: string): Promise<void> {
    if (!this.active || this.streaming || messageId !== lastAssistantId(this.messages)) return
    const before = this.messages.slice(0, -1)
    const turns = this.turns(before)
    if (turns.length === 0 || !turns[turns.length - 1].fromUser) return
    this.messages = before
    await this.ask(turns, null)
  }

  /** Stops the reply being written; what arrived is kept. */
  async stop(): Promise<void> {
    const running = this.running
    if (running === null || running.stopping) return
    running.stopping = true
    try {
      await ipc.cancelReply(running.requestId)
    } catch (raw) {
      if (this.running?.requestId !== running.requestId) return
      this.running.stopping = false
      this.notice = ipc.toHearthError(raw).message
    }
  }

  /** A temporary chat offers no tools, so no call ever waits for an answer. */
  async decideToolCall(): Promise<boolean> {
    return false
  }

  /** Picks the provider and model for the next reply (remembered here only). */
  async setChoice(choice: ModelChoice): Promise<void> {
    this.choice = { ...choice }
  }

  /** The temporary chat has no edits. */
  async edit(): Promise<void> {}

  /** The temporary chat has no alternatives. */
  async selectBranch(): Promise<void> {}

  /** Providers changed in settings: a provider that can no longer be used gives way to the default. */
  providersChanged(): void {
    if (!this.active) return
    const chosen = this.providers().find((p) => p.id === this.choice.providerId)
    if (chosen === undefined || !(chosen.local || chosen.keyHint !== null)) {
      this.choice = initialChoice(null, this.providers())
    }
  }

  /**
   * Starts a reply to `turns` and follows it. `sent` is the user message a send added, so a
   * refused request can take it back and return its text to the composer.
   */
  private async ask(turns: TemporaryTurnDto[], sent: { userId: string; text: string } | null): Promise<void> {
    const requestId = newRequestId()
    const { providerId } = this.choice
    const model = this.choice.model.trim()
    const systemPrompt = this.systemPrompt.trim() === '' ? undefined : this.systemPrompt
    this.messages = [
      ...this.messages,
      memoryMessage(requestId, 'assistant', '', 'streaming', { providerId: providerId || null, model: model || null }),
    ]
    this.notice = null
    this.running = { requestId, stopping: false }
    this.buffer = new DeltaBuffer(
      (snapshot) =>
        this.sync(() =>
          this.patch(requestId, {
            content: snapshot.text,
            reasoning: snapshot.reasoning === '' ? null : snapshot.reasoning,
          }),
        ),
      this.frames,
    )
    try {
      const started = await ipc.sendTemporary(
        {
          requestId,
          turns,
          systemPrompt,
          providerId: providerId || undefined,
          model: model || undefined,
        },
        (event) => this.onEvent(requestId, event),
      )
      this.patch(requestId, { providerId: started.providerId, model: started.model })
    } catch (raw) {
      if (this.running?.requestId !== requestId) return
      const error = ipc.toHearthError(raw)
      this.finish()
      if (sent !== null) {
        // Refused before anything was said: take the turn back and give its text back.
        this.messages = this.messages.filter((m) => m.id !== requestId && m.id !== sent.userId)
        if (this.draftText.trim() === '') this.draftText = sent.text
        const { [sent.userId]: files = [], ...others } = this.files
        this.files = others
        this.attachments.restore(COMPOSER, files)
        if (error.kind !== 'Cancelled') this.notice = error.message
      } else {
        this.patch(requestId, { status: 'error', error: { kind: error.kind, message: error.message } })
      }
    }
  }

  private onEvent(requestId: string, event: ChatEvent): void {
    const buffer = this.buffer
    if (this.running?.requestId !== requestId || buffer === null) return
    switch (event.event) {
      case 'text':
        buffer.pushText(event.data.text)
        return
      case 'reasoning':
        buffer.pushReasoning(event.data.text)
        return
      case 'done':
        buffer.flush()
        this.patch(requestId, { status: event.data.status, finishedAt: Date.now() })
        this.finish()
        return
      case 'error':
        buffer.flush()
        this.patch(requestId, {
          status: 'error',
          error: { kind: event.data.error.kind, message: event.data.error.message },
          finishedAt: Date.now(),
        })
        this.finish()
    }
  }

  private turns(messages: readonly MessageDto[]): TemporaryTurnDto[] {
    return turnsOf(messages, (id) => this.files[id] ?? [])
  }

  private finish(): void {
    this.buffer?.dispose()
    this.buffer = null
    this.running = null
  }

  private patch(id: string, changes: Partial<MessageDto>): void {
    this.messages = this.messages.map((m) => (m.id === id ? { ...m, ...changes } : m))
  }
}
