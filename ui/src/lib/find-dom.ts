// Find in the open conversation, on the page: the text nodes of the rendered messages,
// and two ways of marking matches that leave the sanitised markup exactly as it is. The
// CSS Custom Highlight API paints ranges without touching the DOM (WebKitGTK has it);
// where it is missing, boxes are laid over each match's rectangles in an overlay.

import type { FindMatch } from './find'

/** The text of the messages' contents, in document order (controls and hidden text left out). */
export function messageTextNodes(root: ParentNode): Text[] {
  const nodes: Text[] = []
  for (const content of root.querySelectorAll<HTMLElement>('[data-testid="message-content"]')) {
    const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) =>
        node.parentElement?.closest('button, [aria-hidden="true"], style, script') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
    })
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) nodes.push(node as Text)
  }
  return nodes
}

/** A DOM range per match. */
export function matchRanges(nodes: readonly Text[], matches: readonly FindMatch[]): Range[] {
  return matches.map((m) => {
    const range = document.createRange()
    range.setStart(nodes[m.node], m.start)
    range.setEnd(nodes[m.node], m.end)
    return range
  })
}

/** Marks the matches, the current one apart, until cleared. */
export interface Highlighter {
  show(ranges: readonly Range[], current: number): void
  clear(): void
}

/** The highlight names, styled in app.css (`::highlight(...)`). */
const ALL = 'hearth-find'
const CURRENT = 'hearth-find-current'

interface HighlightRegistry {
  set(name: string, highlight: unknown): void
  delete(name: string): void
}

function registry(): HighlightRegistry | null {
  const css = (globalThis as { CSS?: { highlights?: HighlightRegistry } }).CSS
  const Highlight = (globalThis as { Highlight?: unknown }).Highlight
  return css?.highlights !== undefined && typeof Highlight === 'function' ? css.highlights : null
}

/** Whether matches are painted by the CSS Custom Highlight API (else by the overlay). */
export function paintsHighlights(): boolean {
  return registry() !== null
}

/**
 * A highlighter for matches inside `container`: the Highlight API when the engine has
 * it, else boxes in `overlay` (an empty element positioned over `container`'s content).
 */
export function highlighter(container: HTMLElement, overlay: HTMLElement): Highlighter {
  const highlights = registry()
  if (highlights !== null) {
    const Highlight = (globalThis as unknown as { Highlight: new (...ranges: Range[]) => unknown }).Highlight
    return {
      show(ranges, current) {
        highlights.set(ALL, new Highlight(...ranges.filter((_, i) => i !== current)))
        if (ranges[current] !== undefined) highlights.set(CURRENT, new Highlight(ranges[current]))
        else highlights.delete(CURRENT)
      },
      clear() {
        highlights.delete(ALL)
        highlights.delete(CURRENT)
      },
    }
  }
  return {
    show(ranges, current) {
      overlay.replaceChildren()
      const origin = container.getBoundingClientRect()
      ranges.forEach((range, i) => {
        if (typeof range.getClientRects !== 'function') return
        for (const rect of Array.from(range.getClientRects())) {
          const box = document.createElement('div')
          box.className = i === current ? 'find-box current' : 'find-box'
          box.style.left = `${rect.left - origin.left}px`
          box.style.top = `${rect.top - origin.top}px`
          box.style.width = `${rect.width}px`
          box.style.height = `${rect.height}px`
          overlay.appendChild(box)
        }
      })
    },
    clear() {
      overlay.replaceChildren()
    },
  }
}

/** Scrolls `scroller` so that `range` is in the middle of it, when it is out of view. */
export function revealRange(scroller: HTMLElement, range: Range): void {
  if (typeof range.getBoundingClientRect !== 'function') {
    range.startContainer.parentElement?.scrollIntoView({ block: 'center' })
    return
  }
  const rect = range.getBoundingClientRect()
  const view = scroller.getBoundingClientRect()
  if (rect.top >= view.top + 8 && rect.bottom <= view.bottom - 8) return
  scroller.scrollTop += rect.top - view.top - view.height / 2 + rect.height / 2
}
