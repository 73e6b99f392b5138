// The app's state in one place: the stores, how they reach each other, and what only
// the app as a whole decides (which dialog is open, the idle lock, leaving a temporary chat).

import { ChatStore } from './chat.svelte'
import { summaryOf } from './conversation-list'
import type { ChatSurface } from './chat-surface'
import { ConversationListStore, ListGroup, PAGE_SIZE, type ConversationLists } from './conversations.svelte'
import { IdleTimer } from './idle'
import * as ipc from './ipc'
import { ProjectsStore } from './projects.svelte'
import { PromptsStore } from './prompts.svelte'
import { ProvidersStore } from './providers.svelte'
import { SearchStore } from './search.svelte'
import { SecurityStore } from './security.svelte'
import { SettingsStore } from './settings.svelte'
import { TemporaryChatStore } from './temporary.svelte'
import { ToolsStore } from './tools.svelte'
import { ExportStore, ImportStore } from './transfers.svelte'
import type { ConversationDto, ConversationSummaryDto, ProjectDto } from './types'
import { VaultStore } from './vault.svelte'

export type SettingsTab = 'providers' | 'tools' | 'prompts' | 'security' | 'about' | 'data'

/** The project dialog: making a new project, or editing one. */
export type ProjectDialog = { mode: 'new' } | { mode: 'edit'; id: string }

/** A conversation row's menu, open at a point on screen. */
export interface RowMenu {
  item: ConversationSummaryDto
  x: number
  y: number
}

/** The word the user types to erase everything (and the confirmation the engine expects). */
export const ERASE_WORD = 'erase'

export class Hearth {
  /** The sidebar's main list: conversations in no project. */
  readonly list = new ConversationListStore()
  /** The sidebar's Archived view: loaded when it is shown. */
  readonly archivedList = new ConversationListStore(PAGE_SIZE, { kind: 'archived' })
  /** The conversations of the project open in the sidebar, if one is. */
  projectList = $state.raw<ConversationListStore | null>(null)
  /** Every list the sidebar holds: each change is offered to all, each keeps what belongs. */
  readonly lists = new ListGroup(() => [this.list, this.archivedList, ...(this.projectList ? [this.projectList] : [])])
  readonly projects = new ProjectsStore()
  readonly prompts = new PromptsStore()
  readonly search = new SearchStore()
  readonly providers = new ProvidersStore()
  readonly tools = new ToolsStore()
  /** What the chat tells the sidebar; a conversation new to a project changes its count. */
  private readonly chatLists: ConversationLists = {
    find: (id) => this.lists.find(id),
    upsert: (summary) => {
      const known = this.lists.find(summary.id)
      this.lists.upsert(summary)
      if (summary.projectId !== null && (known === undefined || known.projectId !== summary.projectId)) {
        void this.projects.load()
      }
    },
    touch: (id, at) => this.lists.touch(id, at),
    discoverNew: () => this.lists.discoverNew(),
  }
  readonly chat = new ChatStore({ list: this.chatLists, providers: () => this.providers.list })
  readonly temporary = new TemporaryChatStore({ providers: () => this.providers.list })
  readonly exports = new ExportStore()
  readonly imports = new ImportStore(() => this.reloadConversations())
  readonly settings = new SettingsStore((s) => this.idle.configure(s.autoLockMinutes))
  readonly vault = new VaultStore({
    unlocked: () => this.enterMain(),
    locked: () => this.leaveMain(),
  })
  readonly security = new SecurityStore(() => this.vault.refreshStatus())
  readonly idle = new IdleTimer({
    onIdle: () => void this.vault.lock(),
    busy: () =>
      this.chat.busy || this.temporary.streaming || this.exports.running || this.imports.running || this.security.busy,
  })

  settingsOpen = $state(false)
  settingsTab = $state<SettingsTab>('providers')
  /** The link waiting for the user's confirmation. */
  linkUrl = $state<string | null>(null)
  /** The conversation waiting for delete confirmation. */
  deleteTarget = $state<ConversationSummaryDto | null>(null)
  /** The conversation whose export dialog is open. */
  exportTarget = $state<ConversationDto | null>(null)
  /** What to do once the user agrees to discard the temporary chat (the dialog is open). */
  temporaryLeave = $state<(() => void | Promise<void>) | null>(null)
  /** The sidebar shows archived conversations instead of the default list. */
  showArchived = $state(false)
  /** The sidebar on narrow windows, where it slides over the chat. */
  sidebarOpen = $state(false)
  /** Bumped to ask the sidebar to focus its search box (Ctrl/Cmd+K). */
  searchFocusRequest = $state(0)
  /** Bumped to ask the composer to take focus. */
  composerFocusRequest = $state(0)
  /** Bumped to open the find bar in the open conversation (Ctrl/Cmd+F). */
  findRequest = $state(0)
  /** The project dialog, when open. */
  projectDialog = $state<ProjectDialog | null>(null)
  /** The conversation being moved to a project (its dialog is open). */
  moveTarget = $state<ConversationSummaryDto | null>(null)
  /** A conversation row's menu, when open. */
  rowMenu = $state<RowMenu | null>(null)

  constructor() {
    ipc.onLocked(() => this.vault.lockedElsewhere())
  }

  /** The chat on screen: the temporary one while it is open, else the saved one. */
  get surface(): ChatSurface {
    return this.temporary.active ? this.temporary : this.chat
  }

  start(): Promise<void> {
    return this.vault.start()
  }

  newChat(): void {
    void this.leaveTemporary(() => {
      this.search.clear()
      this.chat.newChat()
      this.sidebarOpen = false
      this.composerFocusRequest++
    })
  }

  /** A new chat that starts in `project` (its defaults, instructions and files apply). */
  newChatIn(project: ProjectDto): void {
    void this.leaveTemporary(() => {
      this.search.clear()
      this.chat.newChat(project)
      this.sidebarOpen = false
      this.composerFocusRequest++
    })
  }

  /** The id of the project whose conversations the sidebar shows, if any. */
  get openProjectId(): string | null {
    return this.projectList?.projectId ?? null
  }

  /** Shows a project's conversations in the sidebar, newest first. */
  openProject(id: string): void {
    this.showArchived = false
    this.search.clear()
    if (this.openProjectId === id) return
    const list = new ConversationListStore(PAGE_SIZE, { kind: 'project', projectId: id })
    this.projectList = list
    void list.loadMore()
  }

  /** Back to the conversations in no project. */
  closeProject(): void {
    this.projectList = null
  }

  /**
   * Moves a conversation into a project, or out of any with null: it leaves the list it
   * was in and joins the one it now belongs to, and the projects' counts follow.
   */
  async moveConversation(id: string, projectId: string | null): Promise<void> {
    const summary = this.lists.find(id) ?? (this.chat.currentId === id && this.chat.conversation
      ? summaryOf(this.chat.conversation, this.chat.messages.length)
      : undefined)
    if (summary !== undefined && (summary.projectId ?? null) === projectId) return
    await ipc.moveConversation(id, projectId)
    if (summary !== undefined) {
      this.lists.upsert({ ...summary, projectId })
    } else {
      // Not loaded in any list (it was dragged from one since closed): read the list it
      // joined again.
      this.lists.forget(id)
      const joined = projectId === null ? this.list : this.projectList?.projectId === projectId ? this.projectList : null
      await joined?.discoverNew()
    }
    this.chat.patchConversation(id, { projectId })
    await this.projects.load()
  }

  /**
   * Deletes a project. Its conversations are deleted with it, or moved out into the main
   * list; either way the lists and the open chat are read again.
   */
  async deleteProject(id: string, deleteConversations: boolean): Promise<number> {
    const deleted = await this.projects.remove(id, deleteConversations)
    if (this.openProjectId === id) this.projectList = null
    if (this.chat.conversation?.projectId === id && !deleteConversations) {
      this.chat.patchConversation(this.chat.conversation.id, { projectId: null })
    }
    if (this.chat.conversation === null && this.chat.newChatProject?.id === id) this.chat.newChat()
    this.projectDialog = null
    await this.reloadConversations()
    return deleted
  }

  /** Opens an empty temporary chat (or goes back to the open one). */
  startTemporary(): void {
    this.sidebarOpen = false
    this.composerFocusRequest++
    if (this.temporary.active) return
    this.search.clear()
    this.chat.newChat()
    this.temporary.open()
  }

  /** Closes the temporary chat (asking first when it has something in it). */
  closeTemporary(): void {
    void this.leaveTemporary(() => {
      this.composerFocusRequest++
    })
  }

  /** The user agreed to discard the temporary chat: do what was waiting. */
  async confirmLeaveTemporary(): Promise<void> {
    const next = this.temporaryLeave
    this.temporaryLeave = null
    this.temporary.discard()
    await next?.()
  }

  cancelLeaveTemporary(): void {
    this.temporaryLeave = null
  }

  async openConversation(id: string, focus: string | null = null): Promise<void> {
    await this.leaveTemporary(async () => {
      this.sidebarOpen = false
      await this.chat.open(id, { focus })
    })
  }

  openSettings(tab: SettingsTab = 'providers'): void {
    this.settingsTab = tab
    this.settingsOpen = true
  }

  async closeSettings(): Promise<void> {
    this.settingsOpen = false
    // A finished export or import has been seen; one still running keeps its report.
    this.exports.clear()
    this.imports.clear()
    this.chat.providersChanged()
    this.temporary.providersChanged()
  }

  async rename(id: string, title: string): Promise<void> {
    await this.list.rename(id, title)
    this.chat.patchConversation(id, { title: title.trim() })
  }

  async pin(id: string, pinned: boolean): Promise<void> {
    await this.list.pin(id, pinned)
    this.chat.patchConversation(id, { pinned })
  }

  /** Switches the sidebar between the default list and the archived conversations. */
  toggleArchived(): void {
    this.projectList = null
    this.showArchived = !this.showArchived
    if (this.showArchived) {
      // Fresh each time: conversations may have been archived since it was last shown.
      this.archivedList.reset()
      void this.archivedList.loadMore()
    }
  }

  /**
   * Archives a conversation (it leaves the default list, search still finds it) or
   * restores it (back into the list in its place by recency).
   */
  async archive(id: string, archived: boolean): Promise<void> {
    const summary = this.lists.find(id)
    await ipc.archiveConversation(id, archived)
    if (summary !== undefined) this.lists.upsert({ ...summary, archived })
    else this.lists.forget(id)
    this.chat.patchConversation(id, { archived })
    if (summary?.projectId) void this.projects.load()
  }

  async confirmDelete(): Promise<void> {
    const target = this.deleteTarget
    if (target === null) return
    await this.list.remove(target.id)
    this.lists.forget(target.id)
    this.deleteTarget = null
    this.chat.forget(target.id)
    if (target.projectId) void this.projects.load()
  }

  /**
   * Conversations were added or deleted behind the sidebar's back (an import, a shorter
   * retention period): load the list again, and leave the open conversation if it is gone.
   */
  async reloadConversations(): Promise<void> {
    this.list.reset()
    this.archivedList.reset()
    this.projectList?.reset()
    const archived = this.showArchived ? this.archivedList.loadMore() : Promise.resolve()
    const project = this.projectList?.loadMore() ?? Promise.resolve()
    await Promise.all([this.list.loadMore(), archived, project, this.projects.load(), this.chat.verifyOpen()])
  }

  closeConversationExport(): void {
    this.exportTarget = null
    this.exports.clear()
  }

  /** Destroys the vault and everything in it, then shows first-run setup. */
  async eraseEverything(): Promise<void> {
    await this.vault.erased(await ipc.eraseEverything(ERASE_WORD))
  }

  /**
   * Runs `next` once the temporary chat is out of the way: at once when there is none or
   * it is empty, otherwise after the user agrees to discard it.
   */
  private async leaveTemporary(next: () => void | Promise<void>): Promise<void> {
    if (this.temporary.active && this.temporary.hasContent) {
      this.temporaryLeave = next
      return
    }
    this.temporary.discard()
    await next()
  }

  private async enterMain(): Promise<void> {
    this.chat.newChat()
    await Promise.all([
      this.providers.load(),
      this.settings.load(),
      this.list.loadMore(),
      this.tools.load(),
      this.projects.load(),
      this.prompts.load(),
    ])
    this.chat.providersChanged()
  }

  private leaveMain(): void {
    this.idle.stop()
    this.settingsOpen = false
    this.linkUrl = null
    this.deleteTarget = null
    this.exportTarget = null
    this.temporaryLeave = null
    this.sidebarOpen = false
    this.showArchived = false
    this.projectList = null
    this.projectDialog = null
    this.moveTarget = null
    this.rowMenu = null
    this.temporary.discard()
    this.exports.reset()
    this.imports.reset()
    this.search.reset()
    this.chat.reset()
    this.list.reset()
    this.archivedList.reset()
    this.projects.reset()
    this.prompts.reset()
    this.providers.reset()
    this.tools.reset()
    this.settings.reset()
    this.security.reset()
  }
}
