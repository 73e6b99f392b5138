// Tool calls inside a reply: where each card goes in the text, and how much of a result
// to show. Everything in a call but its id and status is the model's or the tool's, so
// the cards show it as plain text, never as markup.

import type { ToolCallDto, ToolCallStatusDto } from './types'

/** A stretch of reply text, then the calls made right after it. */
export interface ReplySegment {
  text: string
  calls: ToolCallDto[]
}

/**
 * Splits a reply's text at its calls' offsets: each segment's text was written before its
 * calls were made. Offsets are JavaScript string indices, clamped into the text and kept
 * in order, so a stale or odd offset can misplace a card but never lose text or a card.
 * A reply without calls is one segment.
 */
export function replySegments(content: string, calls: readonly ToolCallDto[]): ReplySegment[] {
  const segments: ReplySegment[] = []
  let at = 0
  for (const call of calls) {
    const offset = Math.min(Math.max(call.textOffset, at), content.length)
    const last = segments[segments.length - 1]
    if (offset === at && last !== undefined) {
      last.calls.push(call)
      continue
    }
    segments.push({ text: content.slice(at, offset), calls: [call] })
    at = offset
  }
  segments.push({ text: content.slice(at), calls: [] })
  return segments
}

/** The most characters of a result put on the page; the rest is counted, not shown. */
export const MAX_SHOWN_RESULT = 100_000

/** Results longer than this (or with more lines) start collapsed. */
export const LONG_RESULT_CHARS = 400
export const LONG_RESULT_LINES = 8

export function isLongResult(result: string): boolean {
  if (result.length > LONG_RESULT_CHARS) return true
  let lines = 1
  for (let i = 0; i < result.length; i++) if (result.charCodeAt(i) === 10 && ++lines > LONG_RESULT_LINES) return true
  return false
}

/** The part of a result shown, and how many characters were left out. */
export function shownResult(result: string): { text: string; omitted: number } {
  if (result.length <= MAX_SHOWN_RESULT) return { text: result, omitted: 0 }
  return { text: result.slice(0, MAX_SHOWN_RESULT), omitted: result.length - MAX_SHOWN_RESULT }
}

/** What a card says about a call's state. */
export function statusLabel(status: ToolCallStatusDto): string {
  switch (status) {
    case 'awaiting':
      return 'Waiting for your answer'
    case 'pending':
      return 'Not answered'
    case 'running':
      return 'Running…'
    case 'approved':
      return 'Done'
    case 'denied':
      return 'Denied'
    case 'failed':
      return 'Failed'
    case 'cancelled':
      return 'Cancelled'
  }
}
