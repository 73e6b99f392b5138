// The app's state in one place: the stores, how they reach each other, and what only
// the app as a whole decides (which dialog is open, the idle lock, leaving a temporary chat).

import { ChatStore } from './chat.svelte'
import type { ChatSurface } from './chat-surface'
import { ConversationListStore, PAGE_SIZE } from './conversations.svelte'
import { IdleTimer } from './idle'
import * as ipc from './ipc'
import { ProvidersStore } from './providers.svelte'
import { SearchStore } from './search.svelte'
import { SecurityStore } from './security.svelte'
import { SettingsStore } from './settings.svelte'
import { TemporaryChatStore } from './temporary.svelte'
import { ToolsStore } from './tools.svelte'
import { ExportStore, ImportStore } from './transfers.svelte'
import type { ConversationDto, ConversationSummaryDto } from './types'
import { VaultStore } from './vault.svelte'

export type SettingsTab = 'providers' | 'tools' | 'security' | 'about' | 'data'

/** The word the user types to erase everything (and the confirmation the engine expects). */
export const ERASE_WORD = 'erase'

export class Hearth {
  readonly list = new ConversationListStore()
  /** The sidebar's Archived view: loaded when it is shown. */
  readonly archivedList = new ConversationListStore(PAGE_SIZE, true)
  readonly search = new SearchStore()
  readonly providers = new ProvidersStore()
  readonly tools = new ToolsStore()
  readonly chat = new ChatStore({ list: this.list, providers: () => this.providers.list })
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
    const summary = this.list.find(id) ?? this.archivedList.find(id)
    await ipc.archiveConversation(id, archived)
    if (archived) {
      this.list.forget(id)
      if (summary !== undefined) this.archivedList.upsert({ ...summary, archived })
    } else {
      this.archivedList.forget(id)
      if (summary !== undefined) this.list.upsert({ ...summary, archived })
    }
    this.chat.patchConversation(id, { archived })
  }

  async confirmDelete(): Promise<void> {
    const target = this.deleteTarget
    if (target === null) return
    await this.list.remove(target.id)
    this.archivedList.forget(target.id)
    this.deleteTarget = null
    this.chat.forget(target.id)
  }

  /**
   * Conversations were added or deleted behind the sidebar's back (an import, a shorter
   * retention period): load the list again, and leave the open conversation if it is gone.
   */
  async reloadConversations(): Promise<void> {
    this.list.reset()
    this.archivedList.reset()
    const archived = this.showArchived ? this.archivedList.loadMore() : Promise.resolve()
    await Promise.all([this.list.loadMore(), archived, this.chat.verifyOpen()])
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
    await Promise.all([this.providers.load(), this.settings.load(), this.list.loadMore(), this.tools.load()])
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
    this.temporary.discard()
    this.exports.reset()
    this.imports.reset()
    this.search.clear()
    this.chat.reset()
    this.list.reset()
    this.archivedList.reset()
    this.providers.reset()
    this.tools.reset()
    this.settings.reset()
    this.security.reset()
  }
}
