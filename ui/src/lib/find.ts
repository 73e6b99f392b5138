// Find in the open conversation: where a query occurs in the text of the rendered
// messages. The text comes as the DOM's text nodes, in order; a match lies inside one
// node (markdown formatting splits text into nodes, and a match across that seam is not
// found, which is what a reader of the words expects far more often than not).

/** One occurrence: the text node it is in (by index) and its `[start, end)` in that node. */
export interface FindMatch {
  node: number
  start: number
  end: number
}

/** The most matches highlighted; a query of one common letter stops here. */
export const MAX_MATCHES = 2000

/** Every occurrence of `query` in `texts`, ignoring case, in document order. */
export function findMatches(texts: readonly string[], query: string, limit = MAX_MATCHES): FindMatch[] {
  const needle = query.toLocaleLowerCase()
  if (needle.trim() === '') return []
  const matches: FindMatch[] = []
  texts.forEach((text, node) => {
    if (matches.length >= limit) return
    const hay = text.toLocaleLowerCase()
    // Lower-casing can change a string's length (İ → i̇); then positions would not
    // line up with the node's text, so such a node is searched as it is.
    const [source, wanted] = hay.length === text.length ? [hay, needle] : [text, query]
    let from = 0
    for (;;) {
      const at = source.indexOf(wanted, from)
      if (at === -1 || matches.length >= limit) break
      matches.push({ node, start: at, end: at + wanted.length })
      from = at + Math.max(1, wanted.length)
    }
  })
  return matches
}

/** The match after (`step` 1) or before (-1) `current`, wrapping; -1 when there are none. */
export function stepMatch(current: number, count: number, step: 1 | -1): number {
  if (count === 0) return -1
  if (current < 0) return step === 1 ? 0 : count - 1
  return (current + step + count) % count
}

/** "3 of 12", "No matches", or nothing before a query is typed. */
export function matchLabel(current: number, count: number, query: string): string {
  if (query.trim() === '') return ''
  if (count === 0) return 'No matches'
  return `${current + 1} of ${count}${count >= MAX_MATCHES ? '+' : ''}`
}
