// The small pure modules: shortcuts, passphrase rules, model choice, link clicks, formats.
import { describe, expect, it } from 'vitest'
import { provider } from '../test/fixtures'
import { classifyLinkClick } from './external-links'
import { usageText } from './format'
import { initialChoice, usableProviders, withProvider } from './model-choice'
import { modeUses, passphraseProblem } from './passphrase'
import { isNearBottom } from './scroll'
import { modifierLabel, sendsMessage, shortcutFor } from './shortcuts'

const key = (init: KeyboardEventInit) => new KeyboardEvent('keydown', init)

describe('shortcuts', () => {
  it('maps Ctrl or Cmd with N and K, and Escape', () => {
    expect(shortcutFor(key({ key: 'n', ctrlKey: true }))).toBe('new-chat')
    expect(shortcutFor(key({ key: 'N', metaKey: true }))).toBe('new-chat')
    expect(shortcutFor(key({ key: 'k', ctrlKey: true }))).toBe('search')
    expect(shortcutFor(key({ key: 'Escape' }))).toBe('escape')
  })

  it('ignores plain letters, other chords and IME composition', () => {
    expect(shortcutFor(key({ key: 'n' }))).toBeNull()
    expect(shortcutFor(key({ key: 'n', ctrlKey: true, shiftKey: true }))).toBeNull()
    expect(shortcutFor(key({ key: 'n', ctrlKey: true, altKey: true }))).toBeNull()
    expect(shortcutFor(key({ key: 'k', ctrlKey: true, isComposing: true }))).toBeNull()
  })

  it('sends on Enter but not on Shift+Enter or while composing', () => {
    expect(sendsMessage(key({ key: 'Enter' }))).toBe(true)
    expect(sendsMessage(key({ key: 'Enter', shiftKey: true }))).toBe(false)
    expect(sendsMessage(key({ key: 'Enter', isComposing: true }))).toBe(false)
    expect(sendsMessage(key({ key: 'a' }))).toBe(false)
  })

  it('writes the modifier as the platform does', () => {
    expect(modifierLabel('MacIntel')).toBe('⌘')
    expect(modifierLabel('Linux x86_64')).toBe('Ctrl')
  })
})

describe('passphrase rules', () => {
  it('asks for 8 characters, counted as people see them', () => {
    expect(passphraseProblem('short', 'short')).toMatch(/at least 8/)
    expect(passphraseProblem('🔑🔑🔑🔑🔑🔑🔑', '🔑🔑🔑🔑🔑🔑🔑')).toMatch(/at least 8/)
    expect(passphraseProblem('        ', '        ')).toMatch(/spaces/)
  })

  it('reports a mismatch, and accepts a good pair', () => {
    expect(passphraseProblem('correct horse', 'correct house')).toMatch(/do not match/)
    expect(passphraseProblem('correct horse', 'correct horse')).toBeNull()
  })

  it('reads the vault mode', () => {
    expect(modeUses('keychain')).toEqual({ passphrase: false, keychain: true })
    expect(modeUses('passphrase')).toEqual({ passphrase: true, keychain: false })
    expect(modeUses('keychain+passphrase')).toEqual({ passphrase: true, keychain: true })
    expect(modeUses(null)).toEqual({ passphrase: false, keychain: false })
  })
})

describe('model choice', () => {
  const providers = [
    provider('openai', { keyHint: '…abcd' }),
    provider('anthropic'),
    provider('ollama', { local: true, isDefault: true, defaultModel: 'llama3' }),
  ]

  it('offers local providers and those with a key', () => {
    expect(usableProviders(providers).map((p) => p.id)).toEqual(['openai', 'ollama'])
  })

  it("uses the conversation's own provider and model", () => {
    expect(initialChoice({ providerId: 'anthropic', model: 'claude-x' }, providers)).toEqual({
      providerId: 'anthropic',
      model: 'claude-x',
    })
  })

  it('falls back to the default provider and its default model for a new chat', () => {
    expect(initialChoice(null, providers)).toEqual({ providerId: 'ollama', model: 'llama3' })
    expect(initialChoice({ providerId: null, model: null }, providers)).toEqual({ providerId: 'ollama', model: 'llama3' })
  })

  it('uses the first usable provider when the default has no key, and nothing when none is usable', () => {
    const noKeyDefault = [provider('anthropic', { isDefault: true }), provider('openai', { keyHint: 'set' })]
    expect(initialChoice(null, noKeyDefault)).toEqual({ providerId: 'openai', model: 'openai-model' })
    expect(initialChoice(null, [provider('anthropic')])).toEqual({ providerId: '', model: '' })
  })

  it("switching provider takes that provider's default model", () => {
    expect(withProvider(providers, 'ollama')).toEqual({ providerId: 'ollama', model: 'llama3' })
    expect(withProvider(providers, 'unknown')).toEqual({ providerId: 'unknown', model: '' })
  })
})

describe('link clicks', () => {
  function dom(html: string): HTMLElement {
    const root = document.createElement('div')
    root.innerHTML = html
    return root
  }

  it('asks to open a vetted link inside rendered markdown, with its full address', () => {
    const root = dom('<div data-markdown><p><a href="https://example.com/a?b=c" data-external-link><em>text</em></a></p></div>')
    const target = root.querySelector('em')!
    expect(classifyLinkClick(target)).toEqual({ action: 'confirm', url: 'https://example.com/a?b=c' })
    expect(classifyLinkClick(target.firstChild)).toEqual({ action: 'confirm', url: 'https://example.com/a?b=c' })
  })

  it('blocks links that are not vetted or not in rendered markdown', () => {
    expect(classifyLinkClick(dom('<a href="https://x.example">x</a>').querySelector('a'))).toEqual({ action: 'block' })
    expect(classifyLinkClick(dom('<a href="https://x.example" data-external-link>x</a>').querySelector('a'))).toEqual({
      action: 'block',
    })
    expect(classifyLinkClick(dom('<div data-markdown><a data-external-link>x</a></div>').querySelector('a'))).toEqual({
      action: 'block',
    })
  })

  it('leaves other clicks alone', () => {
    expect(classifyLinkClick(dom('<button>x</button>').querySelector('button'))).toEqual({ action: 'none' })
    expect(classifyLinkClick(null)).toEqual({ action: 'none' })
  })
})

describe('formats', () => {
  it('describes token usage', () => {
    expect(usageText(1234, 56)).toBe('1,234 in · 56 out tokens')
    expect(usageText(null, 9)).toBe('9 out tokens')
    expect(usageText(null, null)).toBeNull()
  })

  it('knows when a list is scrolled to the bottom', () => {
    expect(isNearBottom({ scrollTop: 952, scrollHeight: 1500, clientHeight: 500 })).toBe(true)
    expect(isNearBottom({ scrollTop: 700, scrollHeight: 1500, clientHeight: 500 })).toBe(false)
  })
})
