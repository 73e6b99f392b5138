// Windowing for long lists of fixed-height rows: which rows to put in the DOM for a
// scroll position, so ten thousand conversations cost as much as the forty on screen.

export interface WindowInput {
  /** The list's scroll offset, in pixels. */
  scrollTop: number
  /** The visible height of the list, in pixels. */
  viewportHeight: number
  /** Every row's height, in pixels. */
  rowHeight: number
  /** Rows in the list. */
  count: number
  /** Extra rows rendered above and below the visible ones, so fast scrolling shows no gaps. */
  overscan?: number
}

export interface VirtualWindow {
  /** First row to render. */
  start: number
  /** One past the last row to render. */
  end: number
  /** Where the first rendered row sits, in pixels from the top of the list. */
  offset: number
  /** The height of the whole list, in pixels. */
  totalHeight: number
}

/** The rows to render, clamped to the list (an over-scrolled or empty list included). */
export function virtualWindow({ scrollTop, viewportHeight, rowHeight, count, overscan = 6 }: WindowInput): VirtualWindow {
  const rows = Math.max(0, Math.floor(count))
  const height = rowHeight > 0 ? rowHeight : 1
  const totalHeight = rows * height
  if (rows === 0) return { start: 0, end: 0, offset: 0, totalHeight: 0 }
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, totalHeight - viewportHeight)))
  const firstVisible = Math.floor(top / height)
  const lastVisible = Math.ceil((top + Math.max(0, viewportHeight)) / height)
  const start = Math.max(0, firstVisible - overscan)
  const end = Math.min(rows, Math.max(lastVisible, firstVisible + 1) + overscan)
  return { start, end, offset: start * height, totalHeight }
}

/** Whether the rendered window is close enough to the end to fetch the next page. */
export function nearEnd(window: VirtualWindow, count: number, threshold = 20): boolean {
  return count === 0 || window.end >= count - threshold
}

/**
 * The scroll offset that brings row `index` fully into view with the least movement
 * (unchanged when it is already visible).
 */
export function scrollToReveal(index: number, rowHeight: number, scrollTop: number, viewportHeight: number): number {
  const top = index * rowHeight
  const bottom = top + rowHeight
  if (top < scrollTop) return top
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight)
  return scrollTop
}
