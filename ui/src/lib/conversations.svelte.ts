// The sidebar's conversations: loaded a page at a time as the list scrolls, kept in the
// engine's order through renames, pins, archiving, moves, deletes and new messages. One
// store holds the main list (conversations in no project, archived ones left out),
// another the Archived view, and another the project shown in the sidebar, if any. Each
// knows which conversations belong in it, so a change can be offered to every list.

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

/** Which conversations a list shows. */
export type ListScope = { kind: 'unfiled' } | { kind: 'archived' } | { kind: 'project'; projectId: string }

/** Whether a conversation belongs in a list of `scope`. */
export function inScope(scope: ListScope, summary: Pick<ConversationSummaryDto, 'archived' | 'projectId'>): boolean {
  switch (scope.kind) {
    case 'archived':
      return summary.archived
    case 'unfiled':
      return !summary.archived && (summary.projectId ?? null) === null
    case 'project':
      return !summary.archived && summary.projectId === scope.projectId
  }
}

/** What the open chat needs of the sidebar's lists (one store, or all of them). */
export interface ConversationLists {
  find(id: string): ConversationSummaryDto | undefined
  upsert(summary: ConversationSummaryDto): void
  touch(id: string, at?: number): void
  discoverNew(): Promise<string | null>
}

export class ConversationListStore implements ConversationLists {
  items = $state.raw<ConversationSummaryDto[]>([])
  /** More rows exist beyond the loaded ones. */
  hasMore = $state(true)
  loading = $state(false)
  error = $state<string | null>(null)
  /** Bumped by reset, so a page that arrives after a lock is thrown away. */
  private generation = 0

  /** `scope`: which conversations this store lists (by default the main list). */
  constructor(
    private readonly pageSize = PAGE_SIZE,
    readonly scope: ListScope = { kind: 'unfiled' },
  ) {}

  /** This store lists the archived conversations (the sidebar's Archived view). */
  get archived(): boolean {
    return this.scope.kind === 'archived'
  }

  /** The project this store lists, if it lists one. */
  get projectId(): string | null {
    return this.scope.kind === 'project' ? this.scope.projectId : null
  }

  private fetchPage(limit: number, offset: number): Promise<ConversationSummaryDto[]> {
    switch (this.scope.kind) {
      case 'archived':
        return ipc.listArchivedConversations(limit, offset)
      case 'project':
        return ipc.listProjectConversations(this.scope.projectId, limit, offset)
      case 'unfiled':
        return ipc.listUnfiledConversations(limit, offset)
    }
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

  /**
   * Puts a conversation in its place (new, or changed elsewhere), or takes it out when it
   * no longer belongs here (archived, restored, moved to or from a project).
   */
  upsert(summary: ConversationSummaryDto): void {
    this.items = inScope(this.scope, summary)
      ? upsertSummary(this.items, summary, this.hasMore)
      : removeSummary(this.items, summary.id)
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

/** Several lists offered every change: each keeps what belongs in it. */
export class ListGroup implements ConversationLists {
  constructor(private readonly lists: () => ConversationListStore[]) {}

  find(id: string): ConversationSummaryDto | undefined {
    for (const list of this.lists()) {
      const found = list.find(id)
      if (found !== undefined) return found
    }
    return undefined
  }

  upsert(summary: ConversationSummaryDto): void {
    for (const list of this.lists()) list.upsert(summary)
  }

  touch(id: string, at: number = Date.now()): void {
    for (const list of this.lists()) list.touch(id, at)
  }

  forget(id: string): void {
    for (const list of this.lists()) list.forget(id)
  }

  async discoverNew(): Promise<string | null> {
    const found = await Promise.all(this.lists().map((list) => list.discoverNew()))
    return found.find((id) => id !== null) ?? null
  }
}
