// Search snippets with their matches marked, as plain text segments: the view wraps the
// marked ones in <mark> elements built from text nodes, so snippet text is never parsed
// as HTML.

/** A run of snippet text, marked when it matched the query. */
export interface Segment {
  text: string
  mark: boolean
}

/**
 * Splits `snippet` at the highlighted ranges. The engine counts offsets in Unicode scalar
 * values (Rust `char`s), not UTF-16 code units, so the text is split by code point: an
 * emoji before a match does not shift the mark. Ranges may arrive unsorted, overlapping,
 * empty or out of bounds; they are clamped and merged, and a snippet with no usable range
 * is one unmarked segment.
 */
export function highlightSegments(
  snippet: string,
  ranges: ReadonlyArray<readonly [number, number]>,
): Segment[] {
  const chars = Array.from(snippet)
  const length = chars.length
  const clamped = ranges
    .map(([start, end]): [number, number] => [
      Math.max(0, Math.min(length, Math.floor(start))),
      Math.max(0, Math.min(length, Math.floor(end))),
    ])
    .filter(([start, end]) => Number.isFinite(start) && Number.isFinite(end) && end > start)
    .sort((a, b) => a[0] - b[0])

  const merged: Array<[number, number]> = []
  for (const range of clamped) {
    const last = merged[merged.length - 1]
    if (last !== undefined && range[0] <= last[1]) {
      last[1] = Math.max(last[1], range[1])
    } else {
      merged.push([range[0], range[1]])
    }
  }

  const segments: Segment[] = []
  let at = 0
  for (const [start, end] of merged) {
    if (start > at) segments.push({ text: chars.slice(at, start).join(''), mark: false })
    segments.push({ text: chars.slice(start, end).join(''), mark: true })
    at = end
  }
  if (at < length || segments.length === 0) {
    segments.push({ text: chars.slice(at).join(''), mark: false })
  }
  return segments
}
