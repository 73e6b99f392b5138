import { describe, expect, it } from 'vitest'
import { DeltaBuffer, type FrameScheduler, type StreamSnapshot } from './streaming'

/** Frames that run only when the test says so, and a clock the test moves. */
class FakeFrames implements FrameScheduler {
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

  get scheduled(): number {
    return this.pending.size
  }

  /** Runs one animation frame, `ms` after the last. */
  frame(ms = 16): void {
    this.time += ms
    const callbacks = [...this.pending.values()]
    this.pending.clear()
    for (const callback of callbacks) callback()
  }
}

function setup(applyCost = 0) {
  const frames = new FakeFrames()
  const applied: StreamSnapshot[] = []
  const buffer = new DeltaBuffer((snapshot) => {
    applied.push(snapshot)
    frames.time += applyCost
  }, frames)
  return { frames, applied, buffer }
}

describe('DeltaBuffer', () => {
  it('applies many deltas once, on the next frame, with the accumulated text', () => {
    const { frames, applied, buffer } = setup()
    for (const word of ['Hello', ', ', 'wide ', 'world']) buffer.pushText(word)
    buffer.pushReasoning('thinking')
    expect(applied).toEqual([])
    expect(frames.scheduled).toBe(1)

    frames.frame()
    expect(applied).toEqual([{ text: 'Hello, wide world', reasoning: 'thinking' }])

    // Nothing new: the next frame applies nothing and schedules nothing.
    frames.frame()
    expect(applied).toHaveLength(1)
    expect(frames.scheduled).toBe(0)
  })

  it('applies at most once per frame while text keeps coming', () => {
    const { frames, applied, buffer } = setup()
    for (let i = 0; i < 100; i++) {
      buffer.pushText(`${i} `)
      if (i % 10 === 9) frames.frame()
    }
    expect(applied).toHaveLength(10)
    expect(applied[9].text.startsWith('0 1 2')).toBe(true)
    expect(applied[9].text.endsWith('99 ')).toBe(true)
  })

  it('waits longer between snapshots when applying them is slow', () => {
    // Applying takes 40 ms: the next snapshot waits at least 80 ms more.
    const { frames, applied, buffer } = setup(40)
    buffer.pushText('a')
    frames.frame()
    expect(applied).toHaveLength(1)

    buffer.pushText('b')
    frames.frame(16)
    frames.frame(16)
    frames.frame(16)
    expect(applied).toHaveLength(1)
    frames.frame(40)
    expect(applied).toHaveLength(2)
    expect(applied[1].text).toBe('ab')
  })

  it('never pauses longer than the cap, however slow applying gets', () => {
    const { frames, applied, buffer } = setup(1000)
    buffer.pushText('a')
    frames.frame()
    buffer.pushText('b')
    frames.frame(200)
    expect(applied).toHaveLength(1)
    frames.frame(60)
    expect(applied).toHaveLength(2)
  })

  it('flush applies at once and cancels the scheduled frame', () => {
    const { frames, applied, buffer } = setup()
    buffer.pushText('last words')
    buffer.flush()
    expect(applied).toEqual([{ text: 'last words', reasoning: '' }])
    expect(frames.scheduled).toBe(0)
    buffer.flush()
    expect(applied).toHaveLength(1)
  })

  it('ignores empty deltas and applies nothing after dispose', () => {
    const { frames, applied, buffer } = setup()
    buffer.pushText('')
    buffer.pushReasoning('')
    expect(frames.scheduled).toBe(0)
    buffer.pushText('x')
    buffer.dispose()
    frames.frame()
    buffer.pushText('y')
    frames.frame()
    buffer.flush()
    expect(applied).toEqual([])
    expect(buffer.snapshot.text).toBe('xy')
  })
})
