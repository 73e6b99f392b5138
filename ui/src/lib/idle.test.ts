import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { IdleTimer, watchActivity } from './idle'

const MINUTE = 60_000

describe('IdleTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  function timer(busy = () => false) {
    const onIdle = vi.fn()
    return { onIdle, idle: new IdleTimer({ onIdle, busy }) }
  }

  it('locks once after the configured idle minutes', () => {
    const { onIdle, idle } = timer()
    idle.configure(5)
    vi.advanceTimersByTime(5 * MINUTE - 1)
    expect(onIdle).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onIdle).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(60 * MINUTE)
    expect(onIdle).toHaveBeenCalledTimes(1)
    expect(idle.running).toBe(false)
  })

  it('counts from the last activity', () => {
    const { onIdle, idle } = timer()
    idle.configure(5)
    vi.advanceTimersByTime(4 * MINUTE)
    idle.activity()
    vi.advanceTimersByTime(4 * MINUTE)
    expect(onIdle).not.toHaveBeenCalled()
    idle.activity()
    vi.advanceTimersByTime(5 * MINUTE - 1)
    expect(onIdle).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onIdle).toHaveBeenCalledTimes(1)
  })

  it('does nothing when off, and turning it off stops a running count', () => {
    const { onIdle, idle } = timer()
    idle.configure(null)
    vi.advanceTimersByTime(24 * 60 * MINUTE)
    expect(onIdle).not.toHaveBeenCalled()

    idle.configure(15)
    vi.advanceTimersByTime(10 * MINUTE)
    idle.configure(null)
    vi.advanceTimersByTime(60 * MINUTE)
    expect(onIdle).not.toHaveBeenCalled()
  })

  it('restarts the count with a new limit', () => {
    const { onIdle, idle } = timer()
    idle.configure(30)
    vi.advanceTimersByTime(20 * MINUTE)
    idle.configure(5)
    vi.advanceTimersByTime(5 * MINUTE)
    expect(onIdle).toHaveBeenCalledTimes(1)
  })

  it('waits while something is busy (a reply streaming)', () => {
    let busy = true
    const { onIdle, idle } = timer(() => busy)
    idle.configure(5)
    vi.advanceTimersByTime(12 * MINUTE)
    expect(onIdle).not.toHaveBeenCalled()
    busy = false
    vi.advanceTimersByTime(5 * MINUTE)
    expect(onIdle).toHaveBeenCalledTimes(1)
  })

  it('stop prevents the lock', () => {
    const { onIdle, idle } = timer()
    idle.configure(5)
    idle.stop()
    vi.advanceTimersByTime(10 * MINUTE)
    expect(onIdle).not.toHaveBeenCalled()
  })

  it('hears mouse and keyboard activity on the window', () => {
    const { onIdle, idle } = timer()
    const unwatch = watchActivity(window, idle)
    idle.configure(5)
    vi.advanceTimersByTime(4 * MINUTE)
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }))
    vi.advanceTimersByTime(4 * MINUTE)
    window.dispatchEvent(new Event('pointermove'))
    vi.advanceTimersByTime(4 * MINUTE)
    expect(onIdle).not.toHaveBeenCalled()

    unwatch()
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' }))
    vi.advanceTimersByTime(1 * MINUTE)
    expect(onIdle).toHaveBeenCalledTimes(1)
  })
})
