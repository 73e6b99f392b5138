import { describe, expect, it } from 'vitest'
import { renderMarkdown } from './markdown'
import { splitStreaming } from './markdown-stream'

const doc = [
  'Intro paragraph with **bold**.',
  '',
  '## Heading',
  '',
  '1. First step',
  '',
  '   More about the first step.',
  '',
  '2. Second step',
  '   - nested',
  '',
  '```js',
  'const a = 1',
  '',
  '',
  'const b = 2',
  '```',
  '',
  '| a | b |',
  '|---|---|',
  '| 1 | 2 |',
  '',
  '    indented code',
  '',
  'Closing words.',
  '',
].join('\n')

describe('splitStreaming', () => {
  it('gives back the text unchanged when joined, for every prefix', () => {
    for (let end = 0; end <= doc.length; end++) {
      const prefix = doc.slice(0, end)
      const { done, tail } = splitStreaming(prefix)
      expect(done.join('') + tail).toBe(prefix)
    }
  })

  it('never changes a finished block as more text arrives', () => {
    let seen: string[] = []
    for (let end = 0; end <= doc.length; end++) {
      const { done } = splitStreaming(doc.slice(0, end))
      expect(done.slice(0, seen.length)).toEqual(seen)
      seen = done
    }
    expect(seen.length).toBeGreaterThan(3)
  })

  it('keeps loose lists, list continuations and indented code with the block before them', () => {
    const { done } = splitStreaming(doc)
    const list = done.find((b) => b.includes('1. First step'))!
    expect(list).toContain('More about the first step.')
    expect(list).toContain('2. Second step')
    expect(done.find((b) => b.includes('| 1 | 2 |'))).toContain('indented code')
  })

  it('never splits inside a code fence, blank lines and all', () => {
    const { done, tail } = splitStreaming(doc)
    const blocks = [...done, tail]
    const code = blocks.find((b) => b.includes('const a = 1'))!
    expect(code).toContain('const b = 2')
    expect(code).toMatch(/```\n/)
    // A fence still open at the end stays in the tail.
    const open = splitStreaming('Before.\n\n```py\nx = 1\n\n\ny = 2\n')
    expect(open.done).toEqual(['Before.\n\n'])
    expect(open.tail).toBe('```py\nx = 1\n\n\ny = 2\n')
  })

  it('renders finished blocks the same as the whole document does', () => {
    const { done, tail } = splitStreaming(doc)
    const pieces = [...done, tail].map(renderMarkdown).join('')
    const normalise = (html: string) => html.replace(/\s+/g, ' ').replace(/> </g, '><').trim()
    expect(normalise(pieces)).toBe(normalise(renderMarkdown(doc)))
  })

  it('waits for the line after a blank line to finish before deciding', () => {
    expect(splitStreaming('Para.\n\n1').done).toEqual([])
    expect(splitStreaming('Para.\n\n1. item\n').done).toEqual([])
    expect(splitStreaming('Para.\n\nNext\n').done).toEqual(['Para.\n\n'])
  })
})
