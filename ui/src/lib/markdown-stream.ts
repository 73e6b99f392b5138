// A streaming reply split into blocks that later text can no longer change, plus the
// open tail. While a reply streams, each finished block is rendered once and its DOM left
// alone; only the tail is rendered again on each frame, so a long reply costs as much per
// frame as its last paragraph. The finished reply is rendered whole, once.
//
// A block ends at a blank line outside a code fence when the next complete line starts a
// new block: not indented (that could continue a list item or be indented code) and not
// a list marker (that could continue a loose list). Splitting there matches rendering the
// whole document, except for rarities that the final render corrects (a reference
// definition that arrives after the link using it).

/** An opening code fence: up to three spaces, then three or more backticks or tildes. */
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/

/** A line that may belong to the block before a blank line. */
const CONTINUES = /^(?:[ \t]|[-*+](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$))/

function closesFence(line: string, fence: string): boolean {
  const trimmed = line.replace(/^ {0,3}/, '')
  if (!trimmed.startsWith(fence[0].repeat(fence.length))) return false
  const run = trimmed.match(fence[0] === '`' ? /^`+/ : /^~+/)?.[0] ?? ''
  return run.length >= fence.length && trimmed.slice(run.length).trim() === ''
}

export interface StreamBlocks {
  /** Finished blocks, in order; each is final. */
  done: string[]
  /** What is still being written. */
  tail: string
}

/** Splits `text` into finished blocks and the tail; joined, they are `text` again. */
export function splitStreaming(text: string): StreamBlocks {
  const done: string[] = []
  let blockStart = 0
  let fence: string | null = null
  let afterBlank = false
  let at = 0
  for (;;) {
    const end = text.indexOf('\n', at)
    // The last line is not finished: it decides nothing yet.
    if (end === -1) break
    const line = text.slice(at, end)
    if (fence !== null) {
      if (closesFence(line, fence)) fence = null
    } else if (line.trim() === '') {
      afterBlank = true
    } else {
      if (afterBlank && at > blockStart && !CONTINUES.test(line)) {
        done.push(text.slice(blockStart, at))
        blockStart = at
      }
      afterBlank = false
      fence = FENCE_OPEN.exec(line)?.[1] ?? null
    }
    at = end + 1
  }
  return { done, tail: text.slice(blockStart) }
}
