// The sidebar's conversations: loaded a page at a time as the list scrolls, kept in the
// engine's order through renames, pins, archiving, deletes and new messages. One store
// holds the default list (archived ones left out), another the Archived view.

import {
  appendPage,
  patchSummary,
  removeSummary,
  upsertSummary,
} from './conversation-list'
import * as ipc from './ipc'
import type { ConversationSummaryDto } from './types'

/** Rows fetched per page. */
export const PAGE_SIZE = 100

export class ConversationListStore {
  items = $state.raw<ConversationSummaryDto[]>([])
  /** More rows exist beyond the loaded ones. */
  hasMore = $state(true)
  loading = $state(false)
  error = $state<string | null>(null)
  /** Bumped by reset, so a page that arrives after a lock is thrown away. */
  private generation = 0

  /**
   * `archived`: this store lists the archived conversations only (the sidebar's
   * Archived view) rather than the default list, which leaves them out.
   */
  constructor(
    private readonly pageSize = PAGE_SIZE,
    readonly archived = false,
  ) {}

  private fetchPage(limit: number, offset: number): Promise<ConversationSummaryDto[]> {
    return this.archived ? ipc.listArchivedConversations(limit, offset) : ipc.listConversations(limit, offset)
  }

  /** Loads the next page, unless one is loading or none is left. */
  async loadMore(): Promise<void> {
    if (this.loading || !this.hasMore) return
    const generation = this.generation
    this.loading = true
    try {
      const page = await this.fetchPage(this.pageSize, this.items.length)
      if (generation !== this.generation) return
      this.items = appendPage(this.items, page)
      this.hasMore = page.length === this.pageSize
      this.error = null
    } catch (raw) {
      if (generation === this.generation) this.error = ipc.toHearthError(raw).message
    } finally {
      if (generation === this.generation) this.loading = false
    }
  }

  /**
   * Reloads the first page and returns the newest conversation that was not loaded
   * before, if any: how the UI finds a conversation the engine created for a message
   * whose reply then failed to start.
   */
  async discoverNew(): Promise<string | null> {
    const known = new Set(this.items.map((c) => c.id))
    const generation = ++this.generation
    this.loading = true
    try {
      const page = await this.fetchPage(this.pageSize, 0)
      if (generation !== this.generation) return null
      this.items = page
      this.hasMore = page.length === this.pageSize
      const fresh = page.filter((c) => !known.has(c.id)).sort((a, b) => b.updatedAt - a.updatedAt)
      return fresh[0]?.id ?? null
    } catch {
      return null
    } finally {
      if (generation === this.generation) this.loading = false
    }
  }

  find(id: string): ConversationSummaryDto | undefined {
    return this.items.find((c) => c.id === id)
  }

  /** Puts a conversation in its place (new, or changed elsewhere). */
  upsert(summary: ConversationSummaryDto): void {
    this.items = upsertSummary(this.items, summary, this.hasMore)
  }

  /** A conversation just changed (a message was added): it moves up. */
  touch(id: string, at: number = Date.now()): void {
    this.items = patchSummary(this.items, id, { updatedAt: at }, this.hasMore)
  }

  async rename(id: string, title: string): Promise<void> {
    const trimmed = title.trim()
    if (trimmed === '') return
    await ipc.renameConversation(id, trimmed)
    this.items = patchSummary(this.items, id, { title: trimmed }, this.hasMore)
  }

  async pin(id: string, pinned: boolean): Promise<void> {
    await ipc.pinConversation(id, pinned)
    this.items = patchSummary(this.items, id, { pinned }, this.hasMore)
  }

  async remove(id: string): Promise<void> {
    await ipc.deleteConversation(id)
    this.forget(id)
  }

  /** Drops a row without asking the engine (it moved to the other list, or is gone). */
  forget(id: string): void {
    this.items = removeSummary(this.items, id)
  }

  /** Forgets every row (the vault locked). */
  reset(): void {
    this.generation++
    this.items = []
    this.hasMore = true
    this.loading = false
    this.error = null
  }
}
