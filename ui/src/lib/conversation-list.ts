// The sidebar's list as pure functions over arrays of summaries. The engine orders
// conversations pinned first, then newest change first, and hands them out in pages by
// offset. The loaded rows must stay exactly the first N of that order, so the next page
// (offset N) neither repeats nor skips a row after local edits: a row that moves past the
// loaded part while more pages exist is dropped, and the page that holds it brings it back.

import type { ConversationDto, ConversationSummaryDto } from './types'

/** The engine's order: pinned first, then newest change first. */
export function compareSummaries(a: ConversationSummaryDto, b: ConversationSummaryDto): number {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1
  return b.updatedAt - a.updatedAt
}

/** Adds a page at the end, skipping rows already loaded. */
export function appendPage(
  list: readonly ConversationSummaryDto[],
  page: readonly ConversationSummaryDto[],
): ConversationSummaryDto[] {
  const seen = new Set(list.map((c) => c.id))
  return [...list, ...page.filter((c) => !seen.has(c.id))]
}

/**
 * Puts `summary` where the engine's order would (replacing the row with its id), or drops
 * it if that place lies beyond the loaded rows while `hasMore`.
 */
export function upsertSummary(
  list: readonly ConversationSummaryDto[],
  summary: ConversationSummaryDto,
  hasMore: boolean,
): ConversationSummaryDto[] {
  const previous = list.find((c) => c.id === summary.id)
  const others = list.filter((c) => c.id !== summary.id)
  const index = others.findIndex((c) => compareSummaries(summary, c) < 0)
  if (index === -1) {
    // It sorts after every loaded row. It still belongs to the loaded part if nothing is
    // left to load, or if it was loaded already and did not move later (a rename).
    const stays = !hasMore || (previous !== undefined && compareSummaries(summary, previous) <= 0)
    return stays ? [...others, summary] : others
  }
  return [...others.slice(0, index), summary, ...others.slice(index)]
}

/** Changes one row's fields (and moves it if its place changed); unknown ids change nothing. */
export function patchSummary(
  list: readonly ConversationSummaryDto[],
  id: string,
  changes: Partial<Omit<ConversationSummaryDto, 'id'>>,
  hasMore: boolean,
): ConversationSummaryDto[] {
  const current = list.find((c) => c.id === id)
  if (current === undefined) return [...list]
  return upsertSummary(list, { ...current, ...changes }, hasMore)
}

/** Removes a row. */
export function removeSummary(list: readonly ConversationSummaryDto[], id: string): ConversationSummaryDto[] {
  return list.filter((c) => c.id !== id)
}

/** A sidebar row for a conversation just opened or written to. */
export function summaryOf(conversation: ConversationDto, messageCount: number): ConversationSummaryDto {
  return {
    id: conversation.id,
    title: conversation.title,
    updatedAt: conversation.updatedAt,
    messageCount,
    pinned: conversation.pinned,
    archived: conversation.archived,
    projectId: conversation.projectId ?? null,
  }
}
