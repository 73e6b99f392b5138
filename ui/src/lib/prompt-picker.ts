// The composer's `/` picker, as pure functions: when it is open (a line that starts with
// `/` holds the caret), which saved prompts match what follows the slash, what each key
// does, and the text once a prompt is chosen.

import type { PromptDto } from './types'

/** The most prompts the picker lists at once. */
export const PICKER_LIMIT = 8

/** The `/query` being typed: where it starts (the slash) and ends (the caret). */
export interface SlashQuery {
  start: number
  end: number
  query: string
}

/**
 * The `/query` the caret ends, if the line it is on starts with `/` and holds nothing
 * else before the caret but the query (which may contain spaces, since names do).
 */
export function slashQuery(text: string, caret: number): SlashQuery | null {
  if (caret < 0 || caret > text.length) return null
  const start = text.lastIndexOf('\n', caret - 1) + 1
  if (text[start] !== '/' || caret === start) return null
  const query = text.slice(start + 1, caret)
  if (query.startsWith(' ')) return null
  return { start, end: caret, query }
}

/**
 * The prompts matching `query`, best first: names that start with it, then names with a
 * word that starts with it, then names that contain it; ties by name.
 */
export function filterPrompts(prompts: readonly PromptDto[], query: string, limit = PICKER_LIMIT): PromptDto[] {
  const q = query.trim().toLocaleLowerCase()
  const ranked: Array<{ prompt: PromptDto; rank: number }> = []
  for (const prompt of prompts) {
    const name = prompt.name.toLocaleLowerCase()
    const rank =
      q === '' || name.startsWith(q) ? 0
      : name.split(/[\s\-_]+/).some((word) => word.startsWith(q)) ? 1
      : name.includes(q) ? 2
      : -1
    if (rank >= 0) ranked.push({ prompt, rank })
  }
  ranked.sort((a, b) => a.rank - b.rank || a.prompt.name.localeCompare(b.prompt.name))
  return ranked.slice(0, limit).map((r) => r.prompt)
}

/** What a key does while the picker is open. */
export type PickerAction =
  | { kind: 'move'; index: number }
  | { kind: 'choose'; index: number }
  | { kind: 'close' }
  | { kind: 'none' }

/** The picker's answer to a key: Up and Down move (wrapping), Enter and Tab choose, Escape closes. */
export function pickerKey(key: string, index: number, count: number, shift = false): PickerAction {
  if (key === 'Escape') return { kind: 'close' }
  if (count === 0) return { kind: 'none' }
  switch (key) {
    case 'ArrowDown':
      return { kind: 'move', index: (index + 1) % count }
    case 'ArrowUp':
      return { kind: 'move', index: (index - 1 + count) % count }
    case 'Enter':
      return shift ? { kind: 'none' } : { kind: 'choose', index }
    case 'Tab':
      return shift ? { kind: 'none' } : { kind: 'choose', index }
    default:
      return { kind: 'none' }
  }
}

/** The composer's text with `/query` replaced by the prompt's text, and where the caret goes. */
export function insertPrompt(text: string, at: SlashQuery, prompt: Pick<PromptDto, 'text'>): { text: string; caret: number } {
  const before = text.slice(0, at.start)
  const after = text.slice(at.end)
  return { text: before + prompt.text + after, caret: before.length + prompt.text.length }
}
