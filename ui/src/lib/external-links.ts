// Clicks on links. The webview never navigates: a link the markdown renderer vetted and
// marked (`data-external-link`) is offered to the user with its full address, and any
// other link does nothing.

export type LinkClick =
  | { action: 'none' }
  | { action: 'block' }
  | { action: 'confirm'; url: string }

/** What a click whose target is `target` should do. */
export function classifyLinkClick(target: EventTarget | null): LinkClick {
  const element =
    target instanceof Element ? target : target instanceof Node ? target.parentElement : null
  const link = element?.closest('a')
  if (link == null) return { action: 'none' }
  const url = link.getAttribute('href')
  if (link.hasAttribute('data-external-link') && link.closest('[data-markdown]') !== null && url) {
    return { action: 'confirm', url }
  }
  return { action: 'block' }
}
