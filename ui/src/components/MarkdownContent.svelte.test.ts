// The one place model output becomes HTML: streamed replies re-render only their tail.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import MarkdownContent from './MarkdownContent.svelte'

let app: ReturnType<typeof mount> | null = null

afterEach(() => {
  if (app !== null) unmount(app)
  app = null
  document.body.innerHTML = ''
  vi.restoreAllMocks()
})

function show(initial: { source: string; streaming: boolean }) {
  const props = $state(initial)
  app = mount(MarkdownContent, { target: document.body, props })
  flushSync()
  return props
}

describe('MarkdownContent', () => {
  it('keeps the DOM of finished blocks while a reply streams, and renders the end whole', () => {
    const props = show({ source: 'First paragraph.\n\n', streaming: true })
    props.source += 'Second paragraph.\n\nThird '
    flushSync()
    const first = document.querySelector('p')!
    expect(first.textContent).toBe('First paragraph.')

    props.source += 'paragraph, growing **bold'
    flushSync()
    props.source += '** words.\n\n```sh\necho hi\n'
    flushSync()
    // The same element: the finished block was not rendered again.
    expect(document.querySelector('p')).toBe(first)
    expect(Array.from(document.querySelectorAll('p')).map((p) => p.textContent)).toEqual([
      'First paragraph.',
      'Second paragraph.',
      'Third paragraph, growing bold words.',
    ])
    expect(document.querySelector('pre code')?.textContent).toBe('echo hi')

    props.source += '```\n'
    props.streaming = false
    flushSync()
    expect(document.querySelectorAll('p')).toHaveLength(3)
    expect(document.querySelector('p')).not.toBe(first)
    expect(document.querySelectorAll('pre')).toHaveLength(1)
  })

  it('keeps hostile markup inert on every path', () => {
    const props = show({ source: '<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n\n', streaming: true })
    props.source += '<script>alert(2)</script> tail'
    flushSync()
    for (const streaming of [true, false]) {
      props.streaming = streaming
      flushSync()
      expect(document.querySelectorAll('img, script, [onerror], a[href]')).toHaveLength(0)
      expect(document.body.textContent).toContain('<img src=x onerror=alert(1)>')
    }
  })

  it('gives each code block a copy button that copies exactly the code', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined)
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    show({ source: '```rust\nfn main() {}\n```\n\nText.', streaming: false })
    const button = document.querySelector<HTMLButtonElement>('pre[data-code] > button.copy-code')!
    expect(button.getAttribute('aria-label')).toBe('Copy rust code')
    // The button adds no text to the block (its label is drawn by CSS).
    expect(document.querySelector('pre')!.textContent).toBe('fn main() {}')
    button.click()
    await vi.waitFor(() => expect(button.dataset.state).toBe('copied'))
    expect(writeText).toHaveBeenCalledWith('fn main() {}')
  })
})
