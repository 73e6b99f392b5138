// Model output reaches the page as HTML in exactly one place, and only through the
// sanitizing renderer. This test reads every component's source to keep it that way.
import { describe, expect, it } from 'vitest'

const sources = import.meta.glob<string>('./**/*.svelte', { query: '?raw', import: 'default', eager: true })

describe('{@html}', () => {
  it('appears only in MarkdownContent, fed by renderMarkdown', () => {
    const users = Object.entries(sources)
      .filter(([, source]) => source.includes('{@html'))
      .map(([path]) => path)
    expect(users).toEqual(['./components/MarkdownContent.svelte'])

    const source = sources['./components/MarkdownContent.svelte']
    expect(source.match(/\{@html [^}]*\}/g)).toEqual(['{@html block.html}'])
    // Every block's HTML comes from `rendered`, and `rendered` makes HTML only with renderMarkdown.
    expect(source.match(/html: [a-zA-Z]+\(/g)).toEqual(['html: rendered(', 'html: rendered(', 'html: rendered('])
    expect(source).toMatch(/const html = renderMarkdown\(text\)/)
    expect(source.match(/const html = /g)).toHaveLength(1)
  })

  it('finds the components it checks', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(10)
  })
})
