// The pure logic behind projects, prompts, model settings, find and search filters.
import { describe, expect, it } from 'vitest'
import { inScope, ConversationListStore, ListGroup } from './conversations.svelte'
import { CONVERSATION_TYPE, carriesConversation, droppedConversation, startConversationDrag, type DragData } from './drag'
import { findMatches, matchLabel, stepMatch } from './find'
import { compactTokens, parseMaxTokens, parseTemperature, settingsLabel } from './model-settings'
import { filterPrompts, insertPrompt, pickerKey, slashQuery } from './prompt-picker'
import { activeFilters, buildFilter, dayStart, NO_FILTERS } from './search-filter'
import type { PromptDto } from './types'
import { summary } from '../test/fixtures'

function prompt(name: string, text = `${name} text`): PromptDto {
  return { id: name.toLowerCase().replace(/\s+/g, '-'), name, text, createdAt: 1, updatedAt: 1 }
}

/** A DataTransfer as a browser hands it out, in memory. */
function dragData(): DragData & { store: Map<string, string> } {
  const store = new Map<string, string>()
  return {
    store,
    get types() {
      return Array.from(store.keys())
    },
    getData: (type) => store.get(type) ?? '',
    setData: (type, data) => void store.set(type, data),
    effectAllowed: 'uninitialized',
    dropEffect: 'none',
  }
}

describe('the model settings label', () => {
  it('says Settings when nothing is set, and what is set otherwise', () => {
    expect(settingsLabel({ temperature: null, maxTokens: null, reasoning: null })).toBe('Settings')
    expect(settingsLabel({ temperature: 0.7, maxTokens: 2048, reasoning: 'high' })).toBe('T 0.7 · 2k · high')
    expect(settingsLabel({ temperature: 0, maxTokens: null, reasoning: null })).toBe('T 0')
    expect(settingsLabel({ temperature: 0.30000001, maxTokens: null, reasoning: 'low' })).toBe('T 0.3 · low')
    expect(settingsLabel({ temperature: null, maxTokens: 1500, reasoning: null })).toBe('1.5k')
  })

  it('writes token counts short', () => {
    expect([800, 1000, 1500, 2048, 128_000, 1_000_000].map(compactTokens)).toEqual(['800', '1k', '1.5k', '2k', '128k', '1M'])
  })

  it('reads the fields, blank as unset, and refuses what no provider takes', () => {
    expect(parseTemperature(' ')).toEqual({ ok: true, value: null })
    expect(parseTemperature('0.7')).toEqual({ ok: true, value: 0.7 })
    expect(parseTemperature('2')).toEqual({ ok: true, value: 2 })
    for (const bad of ['2.1', '-0.1', 'warm', 'NaN', 'Infinity']) expect(parseTemperature(bad).ok, bad).toBe(false)
    expect(parseMaxTokens('')).toEqual({ ok: true, value: null })
    expect(parseMaxTokens('2048')).toEqual({ ok: true, value: 2048 })
    expect(parseMaxTokens('2k')).toEqual({ ok: true, value: 2000 })
    expect(parseMaxTokens('1,500')).toEqual({ ok: true, value: 1500 })
    expect(parseMaxTokens('1M')).toEqual({ ok: true, value: 1_000_000 })
    for (const bad of ['0', '-5', '1.5', '2M', 'lots', '1e3']) expect(parseMaxTokens(bad).ok, bad).toBe(false)
  })
})

describe('the / prompt picker', () => {
  const prompts = [prompt('Translate to French'), prompt('Code review'), prompt('Review notes'), prompt('Summarize')]

  it('opens on a line that starts with a slash, up to the caret', () => {
    expect(slashQuery('/', 1)).toEqual({ start: 0, end: 1, query: '' })
    expect(slashQuery('/rev', 4)).toEqual({ start: 0, end: 4, query: 'rev' })
    expect(slashQuery('Hello\n/code re', 14)).toEqual({ start: 6, end: 14, query: 'code re' })
    expect(slashQuery('Hello /rev', 10), 'not at the start of a line').toBeNull()
    expect(slashQuery('/rev', 0), 'the caret before the slash').toBeNull()
    expect(slashQuery('/ rev', 5), 'a slash then a space is text').toBeNull()
    expect(slashQuery('x\n/rev\nmore', 11), 'the caret on another line').toBeNull()
  })

  it('filters as you type: name prefixes first, then word prefixes, then anywhere', () => {
    expect(filterPrompts(prompts, '').map((p) => p.name)).toEqual([
      'Code review',
      'Review notes',
      'Summarize',
      'Translate to French',
    ])
    expect(filterPrompts(prompts, 'rev').map((p) => p.name)).toEqual(['Review notes', 'Code review'])
    expect(filterPrompts(prompts, 'FRE').map((p) => p.name)).toEqual(['Translate to French'])
    expect(filterPrompts(prompts, 'mari').map((p) => p.name)).toEqual(['Summarize'])
    expect(filterPrompts(prompts, 'zzz')).toEqual([])
    expect(filterPrompts(prompts, '', 2)).toHaveLength(2)
  })

  it('moves with the arrows (wrapping), chooses with Enter or Tab, closes with Escape', () => {
    expect(pickerKey('ArrowDown', 0, 3)).toEqual({ kind: 'move', index: 1 })
    expect(pickerKey('ArrowDown', 2, 3)).toEqual({ kind: 'move', index: 0 })
    expect(pickerKey('ArrowUp', 0, 3)).toEqual({ kind: 'move', index: 2 })
    expect(pickerKey('Enter', 1, 3)).toEqual({ kind: 'choose', index: 1 })
    expect(pickerKey('Tab', 2, 3)).toEqual({ kind: 'choose', index: 2 })
    expect(pickerKey('Enter', 1, 3, true), 'Shift+Enter is a new line').toEqual({ kind: 'none' })
    expect(pickerKey('Escape', 1, 3)).toEqual({ kind: 'close' })
    expect(pickerKey('Escape', 0, 0)).toEqual({ kind: 'close' })
    expect(pickerKey('Enter', 0, 0), 'nothing to choose: Enter sends').toEqual({ kind: 'none' })
    expect(pickerKey('a', 0, 3)).toEqual({ kind: 'none' })
  })

  it("puts the prompt's text in place of the /query and the caret after it", () => {
    const text = 'Intro\n/rev\nAfter'
    const at = slashQuery(text, 10)!
    expect(insertPrompt(text, at, { text: 'Please review:' })).toEqual({ text: 'Intro\nPlease review:\nAfter', caret: 20 })
    const start = slashQuery('/su', 3)!
    expect(insertPrompt('/su', start, { text: 'Summarize this.' })).toEqual({ text: 'Summarize this.', caret: 15 })
  })
})

describe('find in the conversation', () => {
  it('finds every occurrence in each text, ignoring case, in order', () => {
    const texts = ['The zebra and the Zebra', 'no match here', 'ZEBRAZEBRA']
    expect(findMatches(texts, 'zebra')).toEqual([
      { node: 0, start: 4, end: 9 },
      { node: 0, start: 18, end: 23 },
      { node: 2, start: 0, end: 5 },
      { node: 2, start: 5, end: 10 },
    ])
    expect(findMatches(texts, '   ')).toEqual([])
    expect(findMatches(['aaaa'], 'aa'), 'matches do not overlap').toHaveLength(2)
    expect(findMatches(['a'.repeat(50)], 'a', 10)).toHaveLength(10)
  })

  it('keeps positions right when lower-casing would change the length', () => {
    const text = 'İstanbul and istanbul'
    const found = findMatches([text], 'istanbul')
    for (const m of found) expect(text.slice(m.start, m.end).toLowerCase()).toContain('stanbul')
  })

  it('steps forwards and backwards with wrapping, and says where it is', () => {
    expect(stepMatch(0, 3, 1)).toBe(1)
    expect(stepMatch(2, 3, 1)).toBe(0)
    expect(stepMatch(0, 3, -1)).toBe(2)
    expect(stepMatch(-1, 3, -1)).toBe(2)
    expect(stepMatch(0, 0, 1)).toBe(-1)
    expect(matchLabel(1, 12, 'x')).toBe('2 of 12')
    expect(matchLabel(-1, 0, 'x')).toBe('No matches')
    expect(matchLabel(-1, 0, '')).toBe('')
  })
})

describe('dragging a conversation', () => {
  it('carries the id under its own type, and nothing else is taken for one', () => {
    const data = dragData()
    startConversationDrag(data, 'c1', 'Zebras')
    expect(data.store.get(CONVERSATION_TYPE)).toBe('c1')
    expect(data.store.get('text/plain')).toBe('Zebras')
    expect(data.effectAllowed).toBe('move')
    expect(carriesConversation(data)).toBe(true)
    expect(droppedConversation(data)).toBe('c1')

    const text = dragData()
    text.setData('text/plain', 'c1')
    expect(carriesConversation(text)).toBe(false)
    expect(droppedConversation(text)).toBeNull()
    expect(droppedConversation(null)).toBeNull()
  })
})

describe('the sidebar lists', () => {
  it('each keep the conversations that belong to them', () => {
    const unfiled = summary('a', 1)
    const filed = { ...summary('b', 2), projectId: 'p1' }
    const archived = { ...summary('c', 3), archived: true, projectId: 'p1' }
    expect([unfiled, filed, archived].map((s) => inScope({ kind: 'unfiled' }, s))).toEqual([true, false, false])
    expect([unfiled, filed, archived].map((s) => inScope({ kind: 'project', projectId: 'p1' }, s))).toEqual([false, true, false])
    expect([unfiled, filed, archived].map((s) => inScope({ kind: 'archived' }, s))).toEqual([false, false, true])
  })

  it('hand a moved conversation from one list to the other', () => {
    const main = new ConversationListStore(100)
    const project = new ConversationListStore(100, { kind: 'project', projectId: 'p1' })
    main.hasMore = false
    project.hasMore = false
    const group = new ListGroup(() => [main, project])
    group.upsert(summary('a', 1))
    expect(main.items.map((c) => c.id)).toEqual(['a'])
    group.upsert({ ...summary('a', 1), projectId: 'p1' })
    expect(main.items).toEqual([])
    expect(project.items.map((c) => c.id)).toEqual(['a'])
    expect(group.find('a')?.projectId).toBe('p1')
  })
})

describe('search filters', () => {
  it('build nothing when none is set', () => {
    expect(buildFilter(NO_FILTERS)).toEqual({ filter: undefined })
    expect(activeFilters(NO_FILTERS)).toBe(0)
  })

  it('build the engine filter, the "to" day included whole', () => {
    const built = buildFilter({ projectId: 'p1', archived: 'active', author: 'user', from: '2026-03-01', to: '2026-03-31' })
    expect(built).toEqual({
      filter: {
        projectId: 'p1',
        archived: false,
        role: 'user',
        since: new Date(2026, 2, 1).getTime(),
        until: new Date(2026, 3, 1).getTime(),
      },
    })
    expect(activeFilters({ ...NO_FILTERS, archived: 'archived', to: '2026-01-01' })).toBe(2)
    expect(buildFilter({ ...NO_FILTERS, archived: 'archived' })).toEqual({ filter: { archived: true } })
    expect(buildFilter({ ...NO_FILTERS, author: 'assistant' })).toEqual({ filter: { role: 'assistant' } })
    expect(buildFilter({ ...NO_FILTERS, from: '2026-03-05', to: '2026-03-05' })).toEqual({
      filter: { since: new Date(2026, 2, 5).getTime(), until: new Date(2026, 2, 6).getTime() },
    })
  })

  it('refuse a range that ends before it starts, and days that do not exist', () => {
    expect(buildFilter({ ...NO_FILTERS, from: '2026-03-05', to: '2026-03-04' })).toEqual({
      error: 'The “to” date is before the “from” date.',
    })
    expect(dayStart('2026-02-30')).toBeNull()
    expect(dayStart('yesterday')).toBeNull()
    expect('error' in buildFilter({ ...NO_FILTERS, from: '2026-13-01' })).toBe(true)
  })
})
