// The open conversation and the replies being written. The engine's copy of the visible
// branch is reloaded whenever it changes shape (a reply starts or ends, a branch is
// picked); in between, streamed text reaches the view through a `DeltaBuffer`, once per
// animation frame.

import { flushSync } from 'svelte'
import { PendingAttachments, storedAttachment, type ShownAttachment } from './attachments.svelte'
import {
  displayMessages,
  lastAssistantId,
  newLiveReply,
  newRequestId,
  pendingReplyId,
  withCall,
  type LiveReply,
} from './chat-view'
import type { ChatSurface } from './chat-surface'
import type { ConversationLists } from './conversations.svelte'
import { summaryOf } from './conversation-list'
import * as ipc from './ipc'
import { initialChoice, type ModelChoice } from './model-choice'
import { hasSettings } from './model-settings'
import { browserFrames, DeltaBuffer, type FrameScheduler } from './streaming'
import type {
  ChatEvent,
  ConversationDto,
  MessageDto,
  ModelSettingsDto,
  ProjectDto,
  ProviderDto,
  AttachedFilesDto,
  PendingFileDto,
  ReplyStartedDto,
  ToolDecisionDto,
} from './types'

export interface ChatDeps {
  /** The sidebar's lists, told of new and changed conversations. */
  list: ConversationLists
  /** The providers as last loaded, for the model picker's default. */
  providers: () => readonly ProviderDto[]
  frames?: FrameScheduler
  /** Applies a state change and renders it before returning (Svelte's `flushSync`). */
  sync?: (change: () => void) => void
}

/** The composer text of the new-chat view, in `drafts`. */
const NEW_CHAT = ''

/** Model settings with nothing set. */
export const NO_SETTINGS: ModelSettingsDto = { temperature: null, maxTokens: null, reasoning: null }

export class ChatStore implements ChatSurface {
  /** Saved conversations have edits and alternatives. */
  readonly branching = true

  /** The open conversation; null for a new chat that has not been sent yet. */
  conversation = $state.raw<ConversationDto | null>(null)
  /** Its visible branch, root first, as the engine last sent it. */
  messages = $state.raw<MessageDto[]>([])
  /** Replies being written, in any conversation. */
  lives = $state<LiveReply[]>([])
  loading = $state(false)
  /** A problem to show above the composer (dismissible). */
  notice = $state<string | null>(null)
  /** A message to scroll to and flash once it is on screen (from a search result). */
  focusMessageId = $state<string | null>(null)
  /** The provider and model the next reply uses. */
  choice = $state<ModelChoice>({ providerId: '', model: '' })
  /** Composer text per conversation ('' for a new chat). */
  drafts = $state<Record<string, string>>({})
  /** Files waiting in each composer, keyed like `drafts`. */
  readonly attachments = new PendingAttachments()
  /**
   * The tool servers this view's conversation offers its model (none unless chosen). A new
   * chat keeps the choice here and sends it with its first message.
   */
  toolServers = $state.raw<string[]>([])
  /**
   * The conversation's own model settings (unset: its project's, else the provider's). A
   * new chat keeps them here and sends them with its first message.
   */
  settings = $state.raw<ModelSettingsDto>(NO_SETTINGS)
  /** The project a new chat starts in (null: none); an open conversation's is its own. */
  newChatProject = $state.raw<ProjectDto | null>(null)

  /** The live reply that owns the new-chat view until its conversation exists. */
  private draftOwner = $state<string | null>(null)
  /** Bumped whenever the view switches, so a late answer for the old view is dropped. */
  private viewToken = 0
  /** Bumped by each reload, so only the newest reload's answer is shown. */
  private reloadToken = 0
  private readonly buffers = new Map<string, DeltaBuffer>()
  /** The files each send took from its composer, until the reply starts or fails. */
  private readonly sentFiles = new Map<string, PendingFileDto[]>()
  /** Replies whose saved copy is being fetched (the end and the start can both ask). */
  private readonly settling = new Set<string>()
  private readonly list: ConversationLists
  private readonly providers: () => readonly ProviderDto[]
  private readonly frames: FrameScheduler
  private readonly sync: (change: () => void) => void

  constructor(deps: ChatDeps) {
    this.list = deps.list
    this.providers = deps.providers
    this.frames = deps.frames ?? browserFrames
    this.sync = deps.sync ?? ((change) => flushSync(change))
  }

  get currentId(): string | null {
    return this.conversation?.id ?? null
  }

  /** The live replies shown in this view. */
  get currentLives(): LiveReply[] {
    const id = this.currentId
    return this.lives.filter((live) =>
      live.requestId === this.draftOwner || (live.conversationId !== null && live.conversationId === id),
    )
  }

  /** What the view shows: the engine's messages with the live replies laid over them. */
  get shown(): MessageDto[] {
    return displayMessages(this.messages, this.currentLives)
  }

  /** A reply is being written in this view. */
  get streaming(): boolean {
    return this.currentLives.some((live) => !live.finished)
  }

  /** A stop was asked for in this view and the reply has not ended yet. */
  get stopping(): boolean {
    return this.currentLives.some((live) => live.stopping && !live.finished)
  }

  /**
   * A reply is being written anywhere (the auto-lock waits for it). One that only waits
   * for the user to answer a tool call does not hold the lock off: locking stops it, and
   * the call is saved as cancelled.
   */
  get busy(): boolean {
    return this.lives.some((live) => !live.finished && !live.toolCalls.some((c) => c.status === 'awaiting'))
  }

  /** The reply a regenerate button belongs on. */
  get regenerableId(): string | null {
    return this.streaming ? null : lastAssistantId(this.shown)
  }

  get draftText(): string {
    return this.drafts[this.currentId ?? NEW_CHAT] ?? ''
  }

  set draftText(text: string) {
    this.drafts[this.currentId ?? NEW_CHAT] = text
  }

  get pendingFiles(): PendingFileDto[] {
    return this.attachments.list(this.currentId ?? NEW_CHAT)
  }

  get attachRefused(): string[] {
    return this.attachments.refused
  }

  set attachRefused(lines: string[]) {
    this.attachments.refused = lines
  }

  addFiles(result: AttachedFilesDto): void {
    this.attachments.add(this.currentId ?? NEW_CHAT, result)
  }

  removeFile(token: string): void {
    this.attachments.remove(this.currentId ?? NEW_CHAT, token)
  }

  attachmentsOf(message: MessageDto): ShownAttachment[] {
    return (message.attachments ?? []).map(storedAttachment)
  }

  /** The project the view's conversation is in (a new chat's: the one it starts in). */
  get projectId(): string | null {
    return this.conversation === null ? (this.newChatProject?.id ?? null) : (this.conversation.projectId ?? null)
  }

  /**
   * An empty new chat, with the default provider; in `project`, it starts in that project
   * with the project's provider and model when it has them.
   */
  newChat(project: ProjectDto | null = null): void {
    this.viewToken++
    this.conversation = null
    this.messages = []
    this.draftOwner = null
    this.loading = false
    this.notice = null
    this.focusMessageId = null
    this.newChatProject = project
    this.choice = initialChoice(project?.providerId ? project : null, this.providers())
    this.toolServers = []
    this.settings = NO_SETTINGS
  }

  /** Opens a conversation; with `focus`, scrolls to that message (showing its branch if hidden). */
  async open(id: string, { focus = null }: { focus?: string | null } = {}): Promise<void> {
    const token = ++this.viewToken
    this.loading = true
    this.notice = null
    this.focusMessageId = null
    try {
      let view = await ipc.openConversation(id)
      if (token !== this.viewToken) return
      if (focus !== null && !view.messages.some((m) => m.id === focus)) {
        // The message lives on a branch that is not shown: show that branch.
        try {
          view = await ipc.selectBranch(focus)
          if (token !== this.viewToken) return
        } catch {
          // Show the conversation as it is.
        }
      }
      this.draftOwner = null
      this.conversation = view.conversation
      this.messages = view.messages
      this.toolServers = view.toolServers ?? []
      this.settings = view.settings ?? NO_SETTINGS
      this.newChatProject = null
      this.choice = initialChoice(view.conversation, this.providers())
      this.focusMessageId = focus
    } catch (raw) {
      if (token === this.viewToken) this.notice = ipc.toHearthError(raw).message
    } finally {
      if (token === this.viewToken) this.loading = false
    }
  }

  /** Reloads the open conversation from the engine. */
  async refresh(): Promise<void> {
    const id = this.currentId
    if (id === null) return
    const token = this.viewToken
    const reload = ++this.reloadToken
    try {
      const view = await ipc.openConversation(id)
      if (token !== this.viewToken || reload !== this.reloadToken) return
      this.conversation = view.conversation
      this.messages = view.messages
      this.toolServers = view.toolServers ?? this.toolServers
      this.settings = view.settings ?? this.settings
      this.list.upsert(summaryOf(view.conversation, this.list.find(id)?.messageCount ?? view.messages.length))
    } catch (raw) {
      if (token === this.viewToken) this.notice = ipc.toHearthError(raw).message
    }
  }

  /** Sends the composer's text in this view (starting a conversation in a new chat). */
  async send(text: string): Promise<void> {
    if (text.trim() === '' || this.streaming) return
    const conversationId = this.currentId
    const { providerId, model } = this.choice
    const live = newLiveReply({
      requestId: newRequestId(),
      kind: 'send',
      conversationId,
      userText: text,
      providerId: providerId || null,
      model: model.trim() || null,
    })
    if (conversationId === null) this.draftOwner = live.requestId
    this.drafts[conversationId ?? NEW_CHAT] = ''
    const files = this.attachments.take(conversationId ?? NEW_CHAT)
    this.attachments.refused = []
    if (files.length > 0) this.sentFiles.set(live.requestId, files)
    // A saved conversation has its servers already; a new one is given the chat's choice.
    const tools = conversationId === null && this.toolServers.length > 0 ? [...this.toolServers] : undefined
    // The same for the model settings and the project a new chat starts in.
    const settings = conversationId === null && hasSettings(this.settings) ? { ...this.settings } : undefined
    const projectId = conversationId === null ? (this.newChatProject?.id ?? undefined) : undefined
    this.notice = null
    await this.run(live, (onEvent) =>
      ipc.sendMessage(
        {
          requestId: live.requestId,
          conversationId: conversationId ?? undefined,
          providerId: providerId || undefined,
          model: model.trim() || undefined,
          text,
          attachments: files.length > 0 ? files.map((f) => f.token) : undefined,
          tools,
          settings,
          projectId,
        },
        onEvent,
      ),
    )
  }

  /** Asks again for the reply `messageId` (a new sibling becomes the visible one). */
  async regenerate(messageId: string): Promise<void> {
    const conversationId = this.currentId
    if (conversationId === null || this.streaming) return
    const live = newLiveReply({
      requestId: newRequestId(),
      kind: 'regenerate',
      conversationId,
      anchorId: messageId,
      providerId: this.choice.providerId || null,
      model: this.choice.model || null,
    })
    this.notice = null
    await this.run(live, (onEvent) => ipc.regenerateReply({ requestId: live.requestId, messageId }, onEvent))
  }

  /** Sends `text` in place of the user message `messageId` (the old one stays as a sibling). */
  async edit(messageId: string, text: string): Promise<void> {
    const conversationId = this.currentId
    if (conversationId === null || this.streaming || text.trim() === '') return
    const live = newLiveReply({
      requestId: newRequestId(),
      kind: 'edit',
      conversationId,
      anchorId: messageId,
      userText: text,
      providerId: this.choice.providerId || null,
      model: this.choice.model || null,
    })
    this.notice = null
    await this.run(live, (onEvent) =>
      ipc.editMessage({ requestId: live.requestId, messageId, text }, onEvent),
    )
  }

  /** Stops the replies being written in this view; what arrived is kept. */
  async stop(): Promise<void> {
    for (const live of this.currentLives) {
      if (live.finished || live.stopping) continue
      live.stopping = true
      try {
        await ipc.cancelReply(live.requestId)
      } catch (raw) {
        live.stopping = false
        this.notice = ipc.toHearthError(raw).message
      }
    }
  }

  /** Shows the branch through `messageId` (a sibling of a shown message). */
  async selectBranch(messageId: string): Promise<void> {
    if (this.streaming) return
    const token = this.viewToken
    try {
      const view = await ipc.selectBranch(messageId)
      if (token !== this.viewToken) return
      this.conversation = view.conversation
      this.messages = view.messages
    } catch (raw) {
      if (token === this.viewToken) this.notice = ipc.toHearthError(raw).message
    }
  }

  /** Picks the provider and model; an existing conversation keeps them for its next replies. */
  async setChoice(choice: ModelChoice): Promise<void> {
    this.choice = { ...choice }
    const conversation = this.conversation
    const model = choice.model.trim()
    if (conversation === null || choice.providerId === '' || model === '') return
    if (conversation.providerId === choice.providerId && conversation.model === model) return
    try {
      await ipc.setConversationModel(conversation.id, choice.providerId, model)
      if (this.conversation?.id === conversation.id) {
        this.conversation = { ...this.conversation, providerId: choice.providerId, model }
      }
    } catch (raw) {
      this.notice = ipc.toHearthError(raw).message
    }
  }

  /**
   * Chooses the tool servers this view offers its model: saved at once for a conversation,
   * kept for the first message of a new chat.
   */
  async setToolServers(servers: string[]): Promise<void> {
    const conversation = this.conversation
    if (conversation === null) {
      this.toolServers = [...servers]
      return
    }
    try {
      const saved = await ipc.setConversationToolServers(conversation.id, servers)
      if (this.conversation?.id === conversation.id) this.toolServers = saved
    } catch (raw) {
      this.notice = ipc.toHearthError(raw).message
    }
  }

  /**
   * Sets the model settings this view's next replies use: saved at once for a
   * conversation, kept for the first message of a new chat. Whether they were taken (the
   * engine refuses values no provider takes, and says why in `notice`).
   */
  async setSettings(settings: ModelSettingsDto): Promise<boolean> {
    const conversation = this.conversation
    if (conversation === null) {
      this.settings = { ...settings }
      return true
    }
    try {
      await ipc.setConversationSettings(conversation.id, settings)
      if (this.conversation?.id === conversation.id) this.settings = { ...settings }
      return true
    } catch (raw) {
      this.notice = ipc.toHearthError(raw).message
      return false
    }
  }

  /**
   * Answers a tool call a reply waits on. The reply carries on by itself (its next events
   * say how the call went); a refused answer is shown, and the call keeps waiting.
   * Whether the reply took it.
   */
  async decideToolCall(messageId: string, callId: string, decision: ToolDecisionDto): Promise<boolean> {
    const live = this.lives.find(
      (l) => !l.finished && (l.messageId === messageId || pendingReplyId(l.requestId) === messageId),
    )
    if (live === undefined) return false
    try {
      await ipc.decideToolCall(live.requestId, callId, decision)
      return true
    } catch (raw) {
      this.notice = ipc.toHearthError(raw).message
      return false
    }
  }

  /** Saves the open conversation's system prompt (blank removes it). */
  async saveSystemPrompt(prompt: string): Promise<boolean> {
    const conversation = this.conversation
    if (conversation === null) return false
    const value = prompt.trim() === '' ? null : prompt
    try {
      await ipc.setSystemPrompt(conversation.id, value)
      if (this.conversation?.id === conversation.id) {
        this.conversation = { ...this.conversation, systemPrompt: value }
      }
      return true
    } catch (raw) {
      this.notice = ipc.toHearthError(raw).message
      return false
    }
  }

  /**
   * The providers changed (loaded, or edited in settings). A choice with no provider gets
   * the default; a new chat whose provider can no longer be used (its key was removed)
   * moves to the default too. Anything the user picked that still works stays.
   */
  providersChanged(): void {
    const providers = this.providers()
    const chosen = providers.find((p) => p.id === this.choice.providerId)
    const usable = chosen !== undefined && (chosen.local || chosen.keyHint !== null)
    if (this.choice.providerId === '' || (this.conversation === null && !usable)) {
      this.choice = initialChoice(this.conversation, providers)
    }
  }

  /** A conversation was renamed, pinned, archived or moved elsewhere (the sidebar). */
  patchConversation(
    id: string,
    changes: Partial<Pick<ConversationDto, 'title' | 'pinned' | 'archived' | 'projectId'>>,
  ): void {
    if (this.conversation?.id === id) this.conversation = { ...this.conversation, ...changes }
  }

  /**
   * Conversations were deleted behind the view's back (a shorter retention period): if the
   * open one is gone, leave it.
   */
  async verifyOpen(): Promise<void> {
    const id = this.currentId
    if (id === null) return
    try {
      await ipc.openConversation(id)
    } catch (raw) {
      if (ipc.toHearthError(raw).kind === 'NotFound' && this.currentId === id) this.forget(id)
    }
  }

  /** A conversation was deleted: leave it if it is open. */
  forget(id: string): void {
    if (this.currentId === id) this.newChat()
    delete this.drafts[id]
    this.attachments.drop(id)
  }

  /** Forgets everything (the vault locked). Replies still running were stopped by the engine. */
  reset(): void {
    for (const buffer of this.buffers.values()) buffer.dispose()
    this.buffers.clear()
    this.settling.clear()
    this.lives = []
    this.drafts = {}
    this.attachments.reset()
    this.sentFiles.clear()
    this.newChat()
    this.choice = { providerId: '', model: '' }
  }

  private liveFor(requestId: string): LiveReply | undefined {
    return this.lives.find((live) => live.requestId === requestId)
  }

  /** Starts a reply and follows it to the end. */
  private async run(
    live: LiveReply,
    begin: (onEvent: (event: ChatEvent) => void) => Promise<ReplyStartedDto>,
  ): Promise<void> {
    const { requestId } = live
    this.lives.push(live)
    const buffer = new DeltaBuffer(
      (snapshot) =>
        this.sync(() => {
          const current = this.liveFor(requestId)
          if (current === undefined) return
          current.content = snapshot.text
          current.reasoning = snapshot.reasoning
        }),
      this.frames,
    )
    this.buffers.set(requestId, buffer)

    let started: ReplyStartedDto
    try {
      started = await begin((event) => this.onEvent(requestId, event))
    } catch (raw) {
      await this.failedToStart(live, ipc.toHearthError(raw))
      return
    }
    // The files went with the saved message; the Rust side has forgotten their tokens.
    this.sentFiles.delete(requestId)
    const current = this.liveFor(requestId)
    if (current === undefined) return
    const isNew = current.conversationId === null
    current.started = true
    current.conversationId = started.conversationId
    current.messageId = started.messageId
    if (current.kind !== 'regenerate') current.userMessageId = started.userMessageId

    if (this.draftOwner === requestId) {
      // The new chat became a conversation: show it, unless the user went elsewhere.
      await this.adopt(started.conversationId, requestId)
    } else if (this.currentId === started.conversationId) {
      await this.refresh()
    } else if (isNew) {
      await this.listNewConversation(started.conversationId)
    } else {
      this.list.touch(started.conversationId)
    }
    await this.settle(requestId)
  }

  private onEvent(requestId: string, event: ChatEvent): void {
    const buffer = this.buffers.get(requestId)
    const live = this.liveFor(requestId)
    if (buffer === undefined || live === undefined) return
    switch (event.event) {
      case 'text':
        buffer.pushText(event.data.text)
        return
      case 'reasoning':
        buffer.pushReasoning(event.data.text)
        return
      case 'toolApproval':
      case 'toolStarted':
      case 'toolResult':
        // The text before the call first, so the card lands after it.
        buffer.flush()
        live.toolCalls = withCall(live.toolCalls, event.data.call)
        return
      case 'done':
        buffer.flush()
        live.status = event.data.status
        live.messageId ??= event.data.messageId
        live.finished = true
        void this.settle(requestId)
        return
      case 'error':
        buffer.flush()
        live.status = 'error'
        live.error = { kind: event.data.error.kind, message: event.data.error.message }
        live.messageId ??= event.data.messageId
        live.finished = true
        void this.settle(requestId)
    }
  }

  /** Once a reply has both started and ended, the engine's copy replaces the live one. */
  private async settle(requestId: string): Promise<void> {
    const live = this.liveFor(requestId)
    if (live === undefined || !live.started || !live.finished) return
    // A new chat still becoming its conversation settles once that is shown (run() calls again).
    if (this.draftOwner === requestId || this.settling.has(requestId)) return
    this.settling.add(requestId)
    this.buffers.get(requestId)?.dispose()
    this.buffers.delete(requestId)
    const conversationId = live.conversationId
    if (conversationId !== null && conversationId === this.currentId) {
      await this.refresh()
      // The engine saves the end of a reply before it reports it, so the reload has it;
      // should it not, the live copy's ending is kept rather than a reply left "streaming".
      const ended = $state.snapshot(live) as LiveReply
      this.messages = this.messages.map((m) =>
        m.id === ended.messageId && m.status === 'streaming' ? displayMessages([m], [ended])[0] : m,
      )
    } else if (conversationId !== null) {
      this.list.touch(conversationId)
    }
    this.lives = this.lives.filter((l) => l.requestId !== requestId)
    this.settling.delete(requestId)
  }

  /** Shows the conversation a new chat's first message created. */
  private async adopt(conversationId: string, requestId: string): Promise<void> {
    const token = ++this.viewToken
    try {
      const view = await ipc.openConversation(conversationId)
      if (token !== this.viewToken) {
        await this.listNewConversation(conversationId)
        return
      }
      this.conversation = view.conversation
      this.messages = view.messages
      this.toolServers = view.toolServers ?? this.toolServers
      this.settings = view.settings ?? this.settings
      this.newChatProject = null
      if (this.draftOwner === requestId) this.draftOwner = null
      this.list.upsert(summaryOf(view.conversation, view.messages.length))
    } catch (raw) {
      if (token !== this.viewToken) return
      // The reply goes on regardless; the conversation can be opened from the sidebar.
      if (this.draftOwner === requestId) this.draftOwner = null
      this.notice = ipc.toHearthError(raw).message
    }
  }

  private async listNewConversation(conversationId: string): Promise<void> {
    try {
      const view = await ipc.openConversation(conversationId)
      this.list.upsert(summaryOf(view.conversation, view.messages.length))
    } catch {
      this.list.touch(conversationId)
    }
  }

  /**
   * The engine refused or could not start the reply. Depending on how far it got, it may
   * have saved the user's message (and a failed reply), possibly in a conversation it
   * created but could not name: find and show what was saved, or give the text back.
   */
  private async failedToStart(live: LiveReply, error: ipc.HearthError): Promise<void> {
    this.buffers.get(live.requestId)?.dispose()
    this.buffers.delete(live.requestId)
    this.lives = this.lives.filter((l) => l.requestId !== live.requestId)
    if (error.kind === 'Locked') return

    // Refused before anything was written (no key, no model, empty text).
    const nothingSaved = error.kind === 'Invalid' || error.kind === 'NotFound'
    const ownedDraft = this.draftOwner === live.requestId
    if (ownedDraft) this.draftOwner = null

    const files = this.sentFiles.get(live.requestId) ?? []
    this.sentFiles.delete(live.requestId)
    if (nothingSaved) {
      if (live.kind === 'send' && live.userText !== null) {
        const key = live.conversationId ?? NEW_CHAT
        if ((this.drafts[key] ?? '') === '') this.drafts[key] = live.userText
        this.attachments.restore(key, files)
      }
    } else {
      // Saved with the message after all: the composer does not get them back.
      if (files.length > 0) void ipc.discardAttachments(files.map((f) => f.token)).catch(() => {})
      if (live.conversationId === null) {
        const created = await this.list.discoverNew()
        if (created !== null && ownedDraft && this.currentId === null) await this.open(created)
      } else if (live.conversationId === this.currentId) {
        await this.refresh()
      }
    }

    if (error.kind === 'Cancelled') return
    // A failed reply the engine saved shows its own banner with a Retry button.
    const banner = this.shown.some((m) => m.status === 'error' && m.error !== null)
    if (!(ipc.isProviderFailure(error.kind) && banner)) this.notice = error.message
  }
}
