// The idle auto-lock: after N minutes without mouse or keyboard activity the vault locks.
//
// Activity events arrive many times a second, so they only record a time stamp; a single
// timer checks the stamp when it fires and sleeps again for whatever is left.

/** Timers and a clock, injectable so tests can run minutes in microseconds. */
export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** The events that count as the user being there. */
export const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart', 'focus'] as const

export interface IdleTimerOptions {
  /** Called once when the idle time has passed. */
  onIdle: () => void
  /** While this returns true (a reply is streaming, say) the lock waits. */
  busy?: () => boolean
  clock?: Clock
}

export class IdleTimer {
  private limitMs: number | null = null
  private lastActivity: number
  private handle: unknown = null
  private readonly onIdle: () => void
  private readonly busy: () => boolean
  private readonly clock: Clock

  constructor({ onIdle, busy = () => false, clock = systemClock }: IdleTimerOptions) {
    this.onIdle = onIdle
    this.busy = busy
    this.clock = clock
    this.lastActivity = clock.now()
  }

  /** Starts (or restarts) counting with a new limit; `null` or 0 turns the lock off. */
  configure(minutes: number | null): void {
    this.clear()
    this.limitMs = minutes !== null && minutes > 0 ? minutes * 60_000 : null
    this.lastActivity = this.clock.now()
    if (this.limitMs !== null) this.schedule(this.limitMs)
  }

  /** Records that the user did something. */
  activity(): void {
    this.lastActivity = this.clock.now()
  }

  /** Whether a limit is set and counting. */
  get running(): boolean {
    return this.handle !== null
  }

  stop(): void {
    this.clear()
    this.limitMs = null
  }

  private clear(): void {
    if (this.handle !== null) {
      this.clock.clearTimeout(this.handle)
      this.handle = null
    }
  }

  private schedule(ms: number): void {
    this.handle = this.clock.setTimeout(this.check, Math.max(0, ms))
  }

  private readonly check = (): void => {
    this.handle = null
    const limit = this.limitMs
    if (limit === null) return
    if (this.busy()) {
      this.lastActivity = this.clock.now()
      this.schedule(limit)
      return
    }
    const idleFor = this.clock.now() - this.lastActivity
    if (idleFor >= limit) {
      this.limitMs = null
      this.onIdle()
    } else {
      this.schedule(limit - idleFor)
    }
  }
}

/** Feeds `timer` from the window's activity events; returns the function that stops it. */
export function watchActivity(target: Window, timer: IdleTimer): () => void {
  const onActivity = () => timer.activity()
  for (const name of ACTIVITY_EVENTS) {
    target.addEventListener(name, onActivity, { passive: true, capture: true })
  }
  return () => {
    for (const name of ACTIVITY_EVENTS) target.removeEventListener(name, onActivity, { capture: true })
  }
}
