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

/** A file size as people read it: "0 bytes", "812 bytes", "4.2 KB", "118 MB" (1 KB = 1024 bytes). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?'
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  // One decimal while it says something (4.2 KB), none once the number is large (118 MB).
  const shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value)
  if (shown >= 1024 && unit < units.length - 1) return `1 ${units[unit + 1]}`
  return `${shown} ${units[unit]}`
}

/** `path` relative to the folder `dir` when it is inside it ("vault.db"), else `path` unchanged. */
export function relativeTo(path: string, dir: string): string {
  const base = dir.replace(/[\\/]+$/, '')
  if (base === '' || !path.startsWith(base)) return path
  const rest = path.slice(base.length)
  return /^[\\/]/.test(rest) && rest.length > 1 ? rest.slice(1) : path
}
