// Tools over MCP, as Settings → Tools and the chat's tool picker see them: the servers the
// user added (names of their secrets only), what each offers, and the standing grants.
// Every change is an IPC call, and the list is read again from the engine after it.

import * as ipc from './ipc'
import type { ToolGrantDto, ToolInfoDto, ToolServerDto, ToolServerInput } from './types'

/** One environment variable or header row of the add form. */
export interface SecretRow {
  name: string
  value: string
}

/** What the add form holds. */
export interface ServerDraft {
  name: string
  transport: 'stdio' | 'http'
  command: string
  /** One argument per line. */
  args: string
  env: SecretRow[]
  url: string
  headers: SecretRow[]
}

export function emptyDraft(): ServerDraft {
  return { name: '', transport: 'stdio', command: '', args: '', env: [], url: '', headers: [] }
}

/** Rows with a name; a row left wholly empty is ignored, a value without a name is a mistake. */
function rows(list: readonly SecretRow[], what: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = []
  for (const row of list) {
    const name = row.name.trim()
    if (name === '' && row.value === '') continue
    if (name === '') throw new ipc.HearthError('Invalid', `Give every ${what} a name.`)
    out.push({ name, value: row.value })
  }
  return out
}

/**
 * The form as the `add_tool_server` command takes it, or a HearthError saying what to fix.
 * Arguments are one per line (blank lines dropped), so an argument may contain spaces.
 */
export function serverInput(draft: ServerDraft): ToolServerInput {
  const name = draft.name.trim()
  if (name === '') throw new ipc.HearthError('Invalid', 'Give the server a name.')
  if (draft.transport === 'stdio') {
    const command = draft.command.trim()
    if (command === '') throw new ipc.HearthError('Invalid', 'Say which program to run.')
    const args = draft.args
      .split('\n')
      .map((a) => a.replace(/\r$/, ''))
      .filter((a) => a.trim() !== '')
    return { name, transport: { kind: 'stdio', command, args, env: rows(draft.env, 'environment variable') } }
  }
  const url = draft.url.trim()
  if (url === '') throw new ipc.HearthError('Invalid', 'Give the server’s URL.')
  return { name, transport: { kind: 'http', url, headers: rows(draft.headers, 'header') } }
}

/** A server's tools as last listed, or why they could not be. */
export type ServerTools = { tools: ToolInfoDto[] } | { error: string } | { loading: true }

export class ToolsStore {
  servers = $state.raw<ToolServerDto[]>([])
  grants = $state.raw<ToolGrantDto[]>([])
  loaded = $state(false)
  error = $state<string | null>(null)
  /** Tools listed per server, by name (listing starts the server, so only when asked). */
  tools = $state.raw<Record<string, ServerTools>>({})

  /** Servers a conversation can turn on. */
  get enabled(): ToolServerDto[] {
    return this.servers.filter((s) => s.enabled)
  }

  find(name: string): ToolServerDto | undefined {
    return this.servers.find((s) => s.name === name)
  }

  async load(): Promise<void> {
    try {
      const [servers, grants] = await Promise.all([ipc.listToolServers(), ipc.listToolGrants()])
      this.servers = servers
      this.grants = grants
      this.loaded = true
      this.error = null
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
    }
  }

  async loadGrants(): Promise<void> {
    try {
      this.grants = await ipc.listToolGrants()
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
    }
  }

  /** Adds the server in `draft`; throws a HearthError (the form shows it) when refused. */
  async add(draft: ServerDraft): Promise<ToolServerDto> {
    const saved = await ipc.addToolServer(serverInput(draft))
    this.forgetTools(saved.name)
    await this.load()
    return saved
  }

  async remove(name: string): Promise<void> {
    await ipc.removeToolServer(name)
    this.forgetTools(name)
    await this.load()
  }

  async setEnabled(name: string, enabled: boolean): Promise<void> {
    const saved = await ipc.setToolServerEnabled(name, enabled)
    this.servers = this.servers.map((s) => (s.name === name ? saved : s))
  }

  /** Lists a server's tools (starting it); the outcome lands in `tools[name]`. */
  async listTools(name: string): Promise<void> {
    this.tools = { ...this.tools, [name]: { loading: true } }
    let outcome: ServerTools
    try {
      outcome = { tools: await ipc.listServerTools(name) }
    } catch (raw) {
      outcome = { error: ipc.toHearthError(raw).message }
    }
    this.tools = { ...this.tools, [name]: outcome }
  }

  hideTools(name: string): void {
    this.forgetTools(name)
  }

  async revoke(grant: ToolGrantDto): Promise<void> {
    await ipc.revokeToolGrant(grant.server, grant.tool, grant.conversationId)
    await this.loadGrants()
  }

  reset(): void {
    this.servers = []
    this.grants = []
    this.loaded = false
    this.error = null
    this.tools = {}
  }

  private forgetTools(name: string): void {
    const { [name]: _dropped, ...rest } = this.tools
    this.tools = rest
  }
}
