// Small text formats shared by several views.

/** "1,234 in · 56 out", or null when the provider reported nothing. */
export function usageText(tokensIn: number | null, tokensOut: number | null): string | null {
  if (tokensIn === null && tokensOut === null) return null
  const parts: string[] = []
  if (tokensIn !== null) parts.push(`${tokensIn.toLocaleString('en-US')} in`)
  if (tokensOut !== null) parts.push(`${tokensOut.toLocaleString('en-US')} out`)
  return `${parts.join(' · ')} tokens`
}

/** A short date for a sidebar row: the time today, the weekday this week, else the date. */
export function shortDate(ms: number, now: number = Date.now()): string {
  const date = new Date(ms)
  const today = new Date(now)
  if (date.toDateString() === today.toDateString()) {
    return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
  }
  const days = (now - ms) / 86_400_000
  if (days >= 0 && days < 6) return date.toLocaleDateString(undefined, { weekday: 'short' })
  return date.toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    year: date.getFullYear() === today.getFullYear() ? undefined : 'numeric',
  })
}
