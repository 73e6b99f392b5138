// The app's keyboard shortcuts, decided from a key event alone so they can be tested.

export type Shortcut = 'new-chat' | 'search' | 'find' | 'escape'

/** Ctrl on Linux and Windows, Cmd on macOS; both work everywhere. */
function primary(event: KeyboardEvent): boolean {
  return (event.ctrlKey || event.metaKey) && !event.altKey
}

/** The shortcut a key press means, or null. */
export function shortcutFor(event: KeyboardEvent): Shortcut | null {
  if (event.isComposing) return null
  if (event.key === 'Escape' && !primary(event)) return 'escape'
  if (!primary(event) || event.shiftKey) return null
  switch (event.key.toLowerCase()) {
    case 'n':
      return 'new-chat'
    case 'k':
      return 'search'
    case 'f':
      return 'find'
    default:
      return null
  }
}

/** Whether a key press in the composer sends: Enter without Shift, outside an IME composition. */
export function sendsMessage(event: KeyboardEvent): boolean {
  return event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey
}

/** How the primary modifier is written on this platform ("⌘" on macOS, else "Ctrl"). */
export function modifierLabel(platform: string = typeof navigator === 'undefined' ? '' : navigator.platform): string {
  return /mac|iphone|ipad/i.test(platform) ? '⌘' : 'Ctrl'
}
