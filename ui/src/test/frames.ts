// Animation frames a test runs by hand.
import type { FrameScheduler } from '../lib/streaming'

export class ManualFrames implements FrameScheduler {
  time = 0
  private next = 1
  private pending = new Map<number, () => void>()

  request(callback: () => void): number {
    const handle = this.next++
    this.pending.set(handle, callback)
    return handle
  }

  cancel(handle: number): void {
    this.pending.delete(handle)
  }

  now(): number {
    return this.time
  }

  frame(ms = 16): void {
    this.time += ms
    const callbacks = [...this.pending.values()]
    this.pending.clear()
    for (const callback of callbacks) callback()
  }
}
