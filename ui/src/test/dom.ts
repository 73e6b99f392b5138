// Driving mounted components in jsdom.
import { flushSync } from 'svelte'
import { settle } from './backend'

export function hook(id: string, root: ParentNode = document): HTMLElement | null {
  return root.querySelector<HTMLElement>(`[data-testid="${id}"]`)
}

export function hooks(id: string, root: ParentNode = document): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`))
}

/** The element with test hook `id`, failing the test if there is none. */
export function need(id: string, root: ParentNode = document): HTMLElement {
  const element = hook(id, root)
  if (element === null) throw new Error(`no [data-testid="${id}"] in:\n${document.body.innerHTML.slice(0, 3000)}`)
  return element
}

/** Replaces an input's text the way typing does (one input event). */
export function type(element: HTMLElement, text: string): void {
  const input = element as HTMLInputElement | HTMLTextAreaElement
  input.value = text
  input.dispatchEvent(new Event('input', { bubbles: true }))
  flushSync()
}

export function click(element: HTMLElement): void {
  element.click()
  flushSync()
}

export function press(key: string, init: KeyboardEventInit = {}, target: EventTarget = window): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }))
  flushSync()
}

/** Waits (in event-loop turns) until `check` returns something truthy. */
export async function until<T>(check: () => T, what = 'the condition'): Promise<NonNullable<T>> {
  for (let i = 0; i < 200; i++) {
    flushSync()
    const value = check()
    if (value) return value as NonNullable<T>
    await settle(1)
  }
  throw new Error(`gave up waiting for ${what}; the page was:\n${document.body.innerHTML.slice(0, 3000)}`)
}
