import { describe, expect, it } from 'vitest'
import { highlightSegments } from './highlight'

const marked = (segments: ReturnType<typeof highlightSegments>) =>
  segments.filter((s) => s.mark).map((s) => s.text)

describe('highlightSegments', () => {
  it('splits a snippet into marked and unmarked runs', () => {
    expect(highlightSegments('the quick brown fox', [[4, 9], [16, 19]])).toEqual([
      { text: 'the ', mark: false },
      { text: 'quick', mark: true },
      { text: ' brown ', mark: false },
      { text: 'fox', mark: true },
    ])
  })

  it('counts offsets in code points, as the engine does, so emoji do not shift marks', () => {
    // Rust counted "🦓" as one char; in UTF-16 it is two units.
    const snippet = '🦓 zebras and 🦒 giraffes'
    expect(marked(highlightSegments(snippet, [[2, 8], [15, 23]]))).toEqual(['zebras', 'giraffes'])
  })

  it('keeps astral characters whole at a mark boundary', () => {
    const segments = highlightSegments('a😀b', [[1, 2]])
    expect(segments).toEqual([
      { text: 'a', mark: false },
      { text: '😀', mark: true },
      { text: 'b', mark: false },
    ])
  })

  it('sorts, merges overlapping and touching ranges, and drops empty ones', () => {
    expect(highlightSegments('abcdefghij', [[6, 8], [1, 3], [2, 5], [5, 6], [9, 9]])).toEqual([
      { text: 'a', mark: false },
      { text: 'bcdefgh', mark: true },
      { text: 'ij', mark: false },
    ])
  })

  it('clamps ranges that run past either end', () => {
    expect(highlightSegments('hello', [[-3, 2], [4, 99]])).toEqual([
      { text: 'he', mark: true },
      { text: 'll', mark: false },
      { text: 'o', mark: true },
    ])
    expect(highlightSegments('hello', [[10, 20]])).toEqual([{ text: 'hello', mark: false }])
  })

  it('returns the snippet as one run without ranges, and one empty run for an empty snippet', () => {
    expect(highlightSegments('plain', [])).toEqual([{ text: 'plain', mark: false }])
    expect(highlightSegments('', [[0, 3]])).toEqual([{ text: '', mark: false }])
  })

  it('keeps markup in the snippet as text (the view builds text nodes from it)', () => {
    const segments = highlightSegments('<img src=x onerror=alert(1)> match', [[29, 34]])
    expect(segments[0].text).toBe('<img src=x onerror=alert(1)> ')
    expect(marked(segments)).toEqual(['match'])
  })
})
