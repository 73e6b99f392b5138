// Batching of streamed text so the view re-renders at most once per animation frame.
//
// A provider can send hundreds of small deltas a second, and every re-render of a reply
// parses and sanitizes its whole markdown. Deltas therefore only append to a buffer; the
// view sees the buffer once per frame. When applying a snapshot gets slow (a long reply
// with big tables), the next one waits in proportion, so rendering never takes more than
// about a third of the time and typing, scrolling and the stop button stay responsive.

/** Where frames come from: the browser's animation frames, or a fake clock in tests. */
export interface FrameScheduler {
  request(callback: () => void): number
  cancel(handle: number): void
  now(): number
}

/** Animation frames in a window; timers where there is none (they fire at ~60 Hz too). */
export const browserFrames: FrameScheduler = {
  request(callback) {
    return typeof requestAnimationFrame === 'function'
      ? requestAnimationFrame(() => callback())
      : (setTimeout(callback, 16) as unknown as number)
  },
  cancel(handle) {
    if (typeof cancelAnimationFrame === 'function') cancelAnimationFrame(handle)
    else clearTimeout(handle)
  },
  now: () => performance.now(),
}

/** What the view is given: everything received so far. */
export interface StreamSnapshot {
  text: string
  reasoning: string
}

export interface DeltaBufferOptions {
  /** The pause after a snapshot, as a multiple of the time applying it took. */
  backoff?: number
  /** The longest pause between snapshots while text keeps coming, in milliseconds. */
  maxPauseMs?: number
}

/**
 * Collects a reply's deltas and hands the accumulated text to `apply` at most once per
 * frame, later when applying is slow. `flush` applies at once (at the end of a reply).
 */
export class DeltaBuffer {
  private text = ''
  private reasoning = ''
  private dirty = false
  private handle: number | null = null
  private notBefore = 0
  private disposed = false
  private readonly backoff: number
  private readonly maxPauseMs: number

  constructor(
    private readonly apply: (snapshot: StreamSnapshot) => void,
    private readonly frames: FrameScheduler = browserFrames,
    options: DeltaBufferOptions = {},
  ) {
    this.backoff = options.backoff ?? 2
    this.maxPauseMs = options.maxPauseMs ?? 250
  }

  /** Everything received so far, whether or not the view has it yet. */
  get snapshot(): StreamSnapshot {
    return { text: this.text, reasoning: this.reasoning }
  }

  pushText(delta: string): void {
    if (delta === '') return
    this.text += delta
    this.markDirty()
  }

  pushReasoning(delta: string): void {
    if (delta === '') return
    this.reasoning += delta
    this.markDirty()
  }

  /** Applies what is pending now, without waiting for a frame. */
  flush(): void {
    if (this.handle !== null) {
      this.frames.cancel(this.handle)
      this.handle = null
    }
    if (!this.dirty || this.disposed) return
    this.dirty = false
    const started = this.frames.now()
    this.apply(this.snapshot)
    const finished = this.frames.now()
    this.notBefore = finished + Math.min((finished - started) * this.backoff, this.maxPauseMs)
  }

  /** Stops any scheduled frame; later deltas are kept but never applied. */
  dispose(): void {
    this.disposed = true
    if (this.handle !== null) {
      this.frames.cancel(this.handle)
      this.handle = null
    }
  }

  private markDirty(): void {
    this.dirty = true
    if (this.handle === null && !this.disposed) {
      this.handle = this.frames.request(this.onFrame)
    }
  }

  private readonly onFrame = (): void => {
    this.handle = null
    if (!this.dirty || this.disposed) return
    if (this.frames.now() < this.notBefore) {
      // Still paying for the last snapshot: look again next frame.
      this.handle = this.frames.request(this.onFrame)
      return
    }
    this.flush()
  }
}
