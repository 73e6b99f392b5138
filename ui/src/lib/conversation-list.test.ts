import { describe, expect, it } from 'vitest'
import { summary } from '../test/fixtures'
import {
  appendPage,
  compareSummaries,
  patchSummary,
  removeSummary,
  summaryOf,
  upsertSummary,
} from './conversation-list'
import { conversation } from '../test/fixtures'

const ids = (list: Array<{ id: string }>) => list.map((c) => c.id)

// Loaded: two pinned, then unpinned newest first.
const loaded = [summary('p1', 50, true), summary('p2', 10, true), summary('a', 40), summary('b', 30), summary('c', 20)]

describe('the sidebar list', () => {
  it('orders pinned first, then newest first', () => {
    const shuffled = [summary('x', 5), summary('y', 1, true), summary('z', 9)]
    expect(ids([...shuffled].sort(compareSummaries))).toEqual(['y', 'z', 'x'])
  })

  it('appends a page without repeating rows', () => {
    const next = appendPage(loaded, [summary('c', 20), summary('d', 15)])
    expect(ids(next)).toEqual(['p1', 'p2', 'a', 'b', 'c', 'd'])
  })

  it('moves a conversation with a new message to the top of the unpinned rows', () => {
    const next = patchSummary(loaded, 'c', { updatedAt: 100 }, true)
    expect(ids(next)).toEqual(['p1', 'p2', 'c', 'a', 'b'])
  })

  it('moves a pinned conversation to the pinned rows', () => {
    const next = patchSummary(loaded, 'b', { pinned: true }, true)
    expect(ids(next)).toEqual(['p1', 'b', 'p2', 'a', 'c'])
  })

  it('drops an unpinned row whose place is past the loaded rows while pages remain', () => {
    // p2 is older than every loaded unpinned row: its place is on a later page.
    expect(ids(patchSummary(loaded, 'p2', { pinned: false }, true))).toEqual(['p1', 'a', 'b', 'c'])
    // With nothing left to load it simply goes last.
    expect(ids(patchSummary(loaded, 'p2', { pinned: false }, false))).toEqual(['p1', 'a', 'b', 'c', 'p2'])
  })

  it('keeps the last loaded row in place when it is only renamed', () => {
    const next = patchSummary(loaded, 'c', { title: 'Renamed' }, true)
    expect(ids(next)).toEqual(ids(loaded))
    expect(next[4].title).toBe('Renamed')
  })

  it('puts a new conversation at the top of the unpinned rows', () => {
    expect(ids(upsertSummary(loaded, summary('new', 60), true))).toEqual(['p1', 'p2', 'new', 'a', 'b', 'c'])
  })

  it('ignores a patch for a row that is not loaded', () => {
    expect(patchSummary(loaded, 'zzz', { title: 'x' }, true)).toEqual(loaded)
  })

  it('removes a row', () => {
    expect(ids(removeSummary(loaded, 'a'))).toEqual(['p1', 'p2', 'b', 'c'])
  })

  it('keeps the loaded rows equal to the engine order prefix after a pin (so offset paging works)', () => {
    // The whole list as the engine has it, and the first five loaded.
    const all = [...loaded, summary('d', 15), summary('e', 5)]
    const local = patchSummary(loaded, 'c', { pinned: true }, true)
    const server = all.map((c) => (c.id === 'c' ? { ...c, pinned: true } : c)).sort(compareSummaries)
    expect(ids(local)).toEqual(ids(server.slice(0, local.length)))
  })

  it('makes a row from an opened conversation', () => {
    expect(summaryOf(conversation('c9', { title: 'T', updatedAt: 7, pinned: true }), 4)).toEqual({
      id: 'c9',
      title: 'T',
      updatedAt: 7,
      messageCount: 4,
      pinned: true,
      archived: false,
      projectId: null,
    })
    expect(summaryOf(conversation('c9', { projectId: 'p1' }), 1).projectId).toBe('p1')
  })
})
