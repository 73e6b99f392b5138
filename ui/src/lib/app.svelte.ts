// The app's state in one place: the stores, how they reach each other, and what only
// the app as a whole decides (which dialog is open, the idle lock).

import { ChatStore } from './chat.svelte'
import { ConversationListStore } from './conversations.svelte'
import { IdleTimer } from './idle'
import * as ipc from './ipc'
import { ProvidersStore } from './providers.svelte'
import { SearchStore } from './search.svelte'
import { SettingsStore } from './settings.svelte'
import type { ConversationSummaryDto } from './types'
import { VaultStore } from './vault.svelte'

export type SettingsTab = 'providers' | 'security' | 'about'

export class Hearth {
  readonly list = new ConversationListStore()
  readonly search = new SearchStore()
  readonly providers = new ProvidersStore()
  readonly chat = new ChatStore({ list: this.list, providers: () => this.providers.list })
  readonly settings = new SettingsStore((s) => this.idle.configure(s.autoLockMinutes))
  readonly vault = new VaultStore({
    unlocked: () => this.enterMain(),
    locked: () => this.leaveMain(),
  })
  readonly idle = new IdleTimer({
    onIdle: () => void this.vault.lock(),
    busy: () => this.chat.busy,
  })

  settingsOpen = $state(false)
  settingsTab = $state<SettingsTab>('providers')
  /** The link waiting for the user's confirmation. */
  linkUrl = $state<string | null>(null)
  /** The conversation waiting for delete confirmation. */
  deleteTarget = $state<ConversationSummaryDto | null>(null)
  /** The sidebar on narrow windows, where it slides over the chat. */
  sidebarOpen = $state(false)
  /** Bumped to ask the sidebar to focus its search box (Ctrl/Cmd+K). */
  searchFocusRequest = $state(0)
  /** Bumped to ask the composer to take focus. */
  composerFocusRequest = $state(0)

  constructor() {
    ipc.onLocked(() => this.vault.lockedElsewhere())
  }

  start(): Promise<void> {
    return this.vault.start()
  }

  newChat(): void {
    this.search.clear()
    this.chat.newChat()
    this.sidebarOpen = false
    this.composerFocusRequest++
  }

  async openConversation(id: string, focus: string | null = null): Promise<void> {
    this.sidebarOpen = false
    await this.chat.open(id, { focus })
  }

  openSettings(tab: SettingsTab = 'providers'): void {
    this.settingsTab = tab
    this.settingsOpen = true
  }

  async closeSettings(): Promise<void> {
    this.settingsOpen = false
    this.chat.providersChanged()
  }

  async rename(id: string, title: string): Promise<void> {
    await this.list.rename(id, title)
    this.chat.patchConversation(id, { title: title.trim() })
  }

  async pin(id: string, pinned: boolean): Promise<void> {
    await this.list.pin(id, pinned)
    this.chat.patchConversation(id, { pinned })
  }

  async confirmDelete(): Promise<void> {
    const target = this.deleteTarget
    if (target === null) return
    await this.list.remove(target.id)
    this.deleteTarget = null
    this.chat.forget(target.id)
  }

  private async enterMain(): Promise<void> {
    this.chat.newChat()
    await Promise.all([this.providers.load(), this.settings.load(), this.list.loadMore()])
    this.chat.providersChanged()
  }

  private leaveMain(): void {
    this.idle.stop()
    this.settingsOpen = false
    this.linkUrl = null
    this.deleteTarget = null
    this.sidebarOpen = false
    this.search.clear()
    this.chat.reset()
    this.list.reset()
    this.providers.reset()
    this.settings.reset()
  }
}
