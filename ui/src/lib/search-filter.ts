// The search box's filters as the sidebar holds them (plain strings from its controls) and
// the filter the engine takes. Dates are days in the user's time zone: "from" is the
// start of its day, "to" includes its whole day.

import type { SearchFilterDto } from './types'

export interface SearchFilters {
  /** A project id, or '' for every project and none. */
  projectId: string
  /** Archived conversations: all, only the others, or only those. */
  archived: 'any' | 'active' | 'archived'
  /** Whose messages: anyone's, mine, or the replies. */
  author: 'any' | 'user' | 'assistant'
  /** `YYYY-MM-DD` (an `<input type="date">`'s value) or ''. */
  from: string
  to: string
}

export const NO_FILTERS: SearchFilters = { projectId: '', archived: 'any', author: 'any', from: '', to: '' }

/** Midnight at the start of a `YYYY-MM-DD` day, local time, in Unix ms; null if it is not one. */
export function dayStart(day: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (match === null) return null
  const [year, month, date] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])]
  const at = new Date(year, month, date)
  if (at.getFullYear() !== year || at.getMonth() !== month || at.getDate() !== date) return null
  return at.getTime()
}

/** Midnight after a day (its exclusive end), local time. */
function dayEnd(day: string): number | null {
  const start = dayStart(day)
  if (start === null) return null
  const at = new Date(start)
  return new Date(at.getFullYear(), at.getMonth(), at.getDate() + 1).getTime()
}

/** How many filters are set (the badge on the filter button). */
export function activeFilters(f: SearchFilters): number {
  return [f.projectId !== '', f.archived !== 'any', f.author !== 'any', f.from !== '', f.to !== ''].filter(Boolean).length
}

/** The engine's filter, `undefined` when nothing is set, or a sentence saying what is wrong. */
export function buildFilter(f: SearchFilters): { filter: SearchFilterDto | undefined } | { error: string } {
  const filter: SearchFilterDto = {}
  if (f.projectId !== '') filter.projectId = f.projectId
  if (f.archived !== 'any') filter.archived = f.archived === 'archived'
  if (f.author !== 'any') filter.role = f.author
  if (f.from !== '') {
    const since = dayStart(f.from)
    if (since === null) return { error: 'The “from” date is not a date.' }
    filter.since = since
  }
  if (f.to !== '') {
    const until = dayEnd(f.to)
    if (until === null) return { error: 'The “to” date is not a date.' }
    filter.until = until
  }
  if (filter.since != null && filter.until != null && filter.until <= filter.since) {
    return { error: 'The “to” date is before the “from” date.' }
  }
  return { filter: Object.keys(filter).length === 0 ? undefined : filter }
}
