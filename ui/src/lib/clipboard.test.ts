import { afterEach, describe, expect, it, vi } from 'vitest'
import { copyText } from './clipboard'

const original = Object.getOwnPropertyDescriptor(navigator, 'clipboard')

afterEach(() => {
  if (original) Object.defineProperty(navigator, 'clipboard', original)
  else delete (navigator as { clipboard?: unknown }).clipboard
  vi.restoreAllMocks()
})

function setClipboard(value: unknown) {
  Object.defineProperty(navigator, 'clipboard', { value, configurable: true })
}

describe('copyText', () => {
  it('uses the async clipboard when it works', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined)
    setClipboard({ writeText })
    expect(await copyText('fn main() {}')).toBe(true)
    expect(writeText).toHaveBeenCalledWith('fn main() {}')
  })

  it('falls back to copying a selection when the async clipboard refuses', async () => {
    setClipboard({ writeText: vi.fn().mockRejectedValue(new Error('not allowed')) })
    let copied = ''
    document.execCommand = vi.fn((command: string) => {
      copied = command === 'copy' ? (document.activeElement as HTMLTextAreaElement).value : ''
      return true
    })
    const before = document.createElement('button')
    document.body.appendChild(before)
    before.focus()

    expect(await copyText('let x = 1')).toBe(true)
    expect(copied).toBe('let x = 1')
    // The helper element is gone and focus is back where it was.
    expect(document.querySelectorAll('textarea')).toHaveLength(0)
    expect(document.activeElement).toBe(before)
    before.remove()
  })

  it('reports failure when nothing can copy', async () => {
    setClipboard(undefined)
    document.execCommand = vi.fn(() => false)
    expect(await copyText('x')).toBe(false)
  })
})
