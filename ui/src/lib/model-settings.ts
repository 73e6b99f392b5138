// Model settings as the chat header shows and edits them: a compact label for the button,
// and the checks a field's text must pass before it goes to the engine (which checks again).

import type { ModelSettingsDto, ReasoningDto } from './types'

/** The highest temperature (the engine's MAX_TEMPERATURE). */
export const MAX_TEMPERATURE = 2

/** The largest reply length limit (the engine's MAX_OUTPUT_TOKENS). */
export const MAX_OUTPUT_TOKENS = 1_000_000

export const REASONING_LEVELS: readonly ReasoningDto[] = ['low', 'medium', 'high']

/** Whether anything is set. */
export function hasSettings(s: ModelSettingsDto): boolean {
  return s.temperature !== null || s.maxTokens !== null || s.reasoning !== null
}

/** A token count in a few characters: 800, 2k, 1.5k, 128k, 1M. */
export function compactTokens(n: number): string {
  if (n >= 1_000_000) return `${trimmed(n / 1_000_000)}M`
  if (n >= 1000) return `${trimmed(n / 1000)}k`
  return String(n)
}

function trimmed(x: number): string {
  return x.toFixed(x >= 100 ? 0 : 1).replace(/\.0$/, '')
}

/** The button's label: "T 0.7 · 2k · high" for what is set, or "Settings" when nothing is. */
export function settingsLabel(s: ModelSettingsDto): string {
  const parts: string[] = []
  if (s.temperature !== null) parts.push(`T ${Number(s.temperature.toFixed(2))}`)
  if (s.maxTokens !== null) parts.push(compactTokens(s.maxTokens))
  if (s.reasoning !== null) parts.push(s.reasoning)
  return parts.length === 0 ? 'Settings' : parts.join(' · ')
}

/** A field's text read as a setting: `null` when blank, else the value or an error to show. */
export type Parsed<T> = { ok: true; value: T | null } | { ok: false; error: string }

export function parseTemperature(text: string): Parsed<number> {
  const t = text.trim()
  if (t === '') return { ok: true, value: null }
  const value = Number(t)
  if (!Number.isFinite(value) || value < 0 || value > MAX_TEMPERATURE) {
    return { ok: false, error: `The temperature is a number from 0 to ${MAX_TEMPERATURE}.` }
  }
  return { ok: true, value }
}

export function parseMaxTokens(text: string): Parsed<number> {
  const t = text.trim().replace(/[\s_,]/g, '')
  if (t === '') return { ok: true, value: null }
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(t)
  // A fraction only with a unit (1.5k); the count itself is whole.
  const scale = match === null ? NaN : match[2] === '' ? 1 : /k/i.test(match[2]) ? 1000 : 1_000_000
  const value = match === null || (scale === 1 && match[1].includes('.')) ? NaN : Math.round(Number(match[1]) * scale)
  if (!Number.isInteger(value) || value < 1 || value > MAX_OUTPUT_TOKENS) {
    return { ok: false, error: `The reply length limit is a whole number of tokens from 1 to ${MAX_OUTPUT_TOKENS.toLocaleString('en')}.` }
  }
  return { ok: true, value }
}

export function parseReasoning(text: string): ReasoningDto | null {
  return (REASONING_LEVELS as readonly string[]).includes(text) ? (text as ReasoningDto) : null
}
