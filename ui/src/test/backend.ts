// A fake Rust side for tests: mockIPC from @tauri-apps/api with a handler per command,
// recording every call. A handler may return a value, a promise, or throw a CommandError.
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import type { Channel } from '@tauri-apps/api/core'
import type { ChatEvent, ErrorKind, TransferProgressDto } from '../lib/types'

// Handlers see the arguments exactly as sent; tests know their shapes.
export type Handler = (args: any) => unknown

export interface Call {
  command: string
  args: Record<string, unknown>
}

export interface FakeBackend {
  calls: Call[]
  handlers: Record<string, Handler>
  /** The calls of one command, oldest first. */
  called(command: string): Call[]
}

export function fakeBackend(handlers: Record<string, Handler> = {}): FakeBackend {
  const backend: FakeBackend = {
    calls: [],
    // Lists every unlocked vault is asked for; empty unless a test says otherwise.
    handlers: { ui_ready: () => null, list_projects: () => [], list_prompts: () => [], ...handlers },
    called: (command) => backend.calls.filter((c) => c.command === command),
  }
  mockIPC((command, args) => {
    const call = { command, args: (args ?? {}) as Record<string, unknown> }
    backend.calls.push(call)
    const handler = backend.handlers[command]
    if (handler === undefined) throw { kind: 'Internal', message: `the fake backend has no ${command}` }
    return handler(call.args)
  })
  return backend
}

export function resetBackend(): void {
  clearMocks()
}

/** The error a command rejects with. */
export function commandError(kind: ErrorKind, message: string) {
  return { kind, message }
}

/** A promise the test settles by hand. */
export function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((yes, no) => {
    resolve = yes
    reject = no
  })
  return { promise, resolve, reject }
}

/** Sends `event` down the channel a streaming command was given. */
export function emit(call: Call, event: ChatEvent): void {
  const channel = call.args.onEvent as Channel<ChatEvent>
  channel.onmessage(event)
}

/** Sends `progress` down the channel an export or import was given. */
export function report(call: Call, progress: TransferProgressDto): void {
  const channel = call.args.onProgress as Channel<TransferProgressDto>
  channel.onmessage(progress)
}

/** Lets pending promise callbacks run (several rounds, for chains of awaits). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}
