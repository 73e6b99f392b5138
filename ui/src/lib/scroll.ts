// Following a growing message list: stay pinned to the bottom while the user is there,
// leave the scroll position alone once they scroll up to read.

/** Whether a scrolled element is at (or within `slack` pixels of) its bottom. */
export function isNearBottom(
  metrics: { scrollTop: number; scrollHeight: number; clientHeight: number },
  slack = 48,
): boolean {
  return metrics.scrollHeight - metrics.scrollTop - metrics.clientHeight <= slack
}
