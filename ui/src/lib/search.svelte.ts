// Search as you type: the engine is asked once the typing pauses, and an answer that
// arrives after a newer query was sent is dropped. The filters (project, archived or
// not, whose messages, dates) narrow the search inside the engine; changing one asks again.

import * as ipc from './ipc'
import { activeFilters, buildFilter, NO_FILTERS, type SearchFilters } from './search-filter'
import type { SearchHitDto } from './types'

/** How long typing must pause before the engine is asked, in milliseconds. */
export const SEARCH_DEBOUNCE_MS = 150

/** Results asked for per query. */
export const SEARCH_LIMIT = 50

export class SearchStore {
  query = $state('')
  hits = $state.raw<SearchHitDto[]>([])
  /** The query `hits` answer (the box may already hold a newer one). */
  answered = $state('')
  searching = $state(false)
  error = $state<string | null>(null)
  /** The filters as the sidebar's controls hold them. */
  filters = $state<SearchFilters>({ ...NO_FILTERS })
  private timer: ReturnType<typeof setTimeout> | null = null
  private sequence = 0

  constructor(private readonly delayMs = SEARCH_DEBOUNCE_MS) {}

  /** Whether the sidebar shows results instead of the conversation list. */
  get active(): boolean {
    return this.query.trim() !== ''
  }

  setQuery(query: string): void {
    this.query = query
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (query.trim() === '') {
      this.sequence++
      this.hits = []
      this.answered = ''
      this.searching = false
      this.error = null
      return
    }
    this.searching = true
    this.timer = setTimeout(() => {
      this.timer = null
      void this.run(query)
    }, this.delayMs)
  }

  /** How many filters are set. */
  get filterCount(): number {
    return activeFilters(this.filters)
  }

  /** Changes filters and asks again (at once) if there is a query. */
  setFilters(changes: Partial<SearchFilters>): void {
    this.filters = { ...this.filters, ...changes }
    if (this.active) this.setQuery(this.query)
  }

  clearFilters(): void {
    this.setFilters({ ...NO_FILTERS })
  }

  /** Empties the box; the filters stay for the next search, until the vault locks. */
  clear(): void {
    this.setQuery('')
  }

  /** Forgets the query and the filters (the vault locked). */
  reset(): void {
    this.filters = { ...NO_FILTERS }
    this.setQuery('')
  }

  private async run(query: string): Promise<void> {
    const sequence = ++this.sequence
    const built = buildFilter(this.filters)
    if ('error' in built) {
      this.hits = []
      this.answered = query
      this.error = built.error
      this.searching = false
      return
    }
    try {
      const hits = await ipc.searchConversations(query.trim(), SEARCH_LIMIT, built.filter)
      if (sequence !== this.sequence) return
      this.hits = hits
      this.answered = query
      this.error = null
    } catch (raw) {
      if (sequence !== this.sequence) return
      this.hits = []
      this.answered = query
      this.error = ipc.toHearthError(raw).message
    } finally {
      if (sequence === this.sequence) this.searching = false
    }
  }
}
