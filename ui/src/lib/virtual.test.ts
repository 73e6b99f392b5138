import { describe, expect, it } from 'vitest'
import { nearEnd, scrollToReveal, virtualWindow } from './virtual'

describe('virtualWindow', () => {
  it('renders only the visible rows plus overscan of 10,000', () => {
    const w = virtualWindow({ scrollTop: 0, viewportHeight: 600, rowHeight: 40, count: 10_000, overscan: 5 })
    expect(w).toEqual({ start: 0, end: 20, offset: 0, totalHeight: 400_000 })
  })

  it('follows the scroll position, with the first rendered row placed at its offset', () => {
    const w = virtualWindow({ scrollTop: 40_000, viewportHeight: 600, rowHeight: 40, count: 10_000, overscan: 5 })
    expect(w.start).toBe(995)
    expect(w.end).toBe(1020)
    expect(w.offset).toBe(995 * 40)
    expect(w.end - w.start).toBeLessThan(40)
  })

  it('covers a row that is partly visible at the bottom', () => {
    const w = virtualWindow({ scrollTop: 20, viewportHeight: 100, rowHeight: 40, count: 100, overscan: 0 })
    // Rows 0 (partly), 1, 2 (partly) are visible.
    expect([w.start, w.end]).toEqual([0, 3])
  })

  it('clamps at the end of the list and when over-scrolled', () => {
    const w = virtualWindow({ scrollTop: 1e9, viewportHeight: 400, rowHeight: 40, count: 50, overscan: 3 })
    expect(w.end).toBe(50)
    expect(w.start).toBe(50 - 10 - 3)
    const negative = virtualWindow({ scrollTop: -500, viewportHeight: 400, rowHeight: 40, count: 50, overscan: 3 })
    expect(negative.start).toBe(0)
  })

  it('handles a list shorter than the viewport and an empty list', () => {
    expect(virtualWindow({ scrollTop: 0, viewportHeight: 800, rowHeight: 40, count: 3 })).toEqual({
      start: 0,
      end: 3,
      offset: 0,
      totalHeight: 120,
    })
    expect(virtualWindow({ scrollTop: 0, viewportHeight: 800, rowHeight: 40, count: 0 })).toEqual({
      start: 0,
      end: 0,
      offset: 0,
      totalHeight: 0,
    })
  })

  it('still renders a few rows before layout has measured the viewport', () => {
    const w = virtualWindow({ scrollTop: 0, viewportHeight: 0, rowHeight: 40, count: 1000, overscan: 4 })
    expect(w.end).toBeGreaterThan(0)
    expect(w.end).toBeLessThanOrEqual(5)
  })
})

describe('nearEnd', () => {
  it('asks for the next page only when the window approaches the loaded end', () => {
    expect(nearEnd({ start: 0, end: 20, offset: 0, totalHeight: 0 }, 100)).toBe(false)
    expect(nearEnd({ start: 60, end: 85, offset: 0, totalHeight: 0 }, 100)).toBe(true)
    expect(nearEnd({ start: 0, end: 0, offset: 0, totalHeight: 0 }, 0)).toBe(true)
  })
})

describe('scrollToReveal', () => {
  it('scrolls the least needed to show a row, and not at all when it is visible', () => {
    expect(scrollToReveal(5, 40, 0, 400)).toBe(0)
    expect(scrollToReveal(10, 40, 0, 400)).toBe(40)
    expect(scrollToReveal(2, 40, 200, 400)).toBe(80)
  })
})
