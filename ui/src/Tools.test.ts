// Tools mounted whole against a fake Rust side: Settings → Tools (servers, their tools,
// the on/off switch, removing, grants and revoking), the chat's tool picker, and tool-call
// cards in a reply, live and loaded, with hostile arguments and results shown as text.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import App from './App.svelte'
import { Hearth } from './lib/app.svelte'
import { isLongResult, replySegments, shownResult, MAX_SHOWN_RESULT } from './lib/tool-calls'
import { emptyDraft, serverInput } from './lib/tools.svelte'
import type {
  ConversationViewDto,
  ReplyStartedDto,
  ToolCallDto,
  ToolGrantDto,
  ToolServerDto,
  VaultStatusDto,
} from './lib/types'
import { commandError, deferred, emit, fakeBackend, resetBackend, settle, type FakeBackend } from './test/backend'
import { conversation, message, provider, summary } from './test/fixtures'
import { click, hook, hooks, need, type, until } from './test/dom'

const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'

let app: ReturnType<typeof mount> | null = null
let backend: FakeBackend
let servers: ToolServerDto[]
let grants: ToolGrantDto[]

function status(): VaultStatusDto {
  return {
    state: 'unlocked',
    mode: 'passphrase',
    dataDir: '/home/me/.local/share/hearth',
    conversations: 1,
    messages: 2,
    keychainAvailable: true,
  }
}

function server(name: string, changes: Partial<ToolServerDto> = {}): ToolServerDto {
  return {
    name,
    transport: 'stdio',
    command: 'python3',
    args: ['server.py', 'stdio'],
    url: null,
    envNames: [],
    headerNames: [],
    enabled: true,
    ...changes,
  }
}

function call(id: string, changes: Partial<ToolCallDto> = {}): ToolCallDto {
  return {
    id,
    server: 'py',
    tool: 'echo',
    arguments: '{\n  "text": "hi"\n}',
    status: 'approved',
    result: 'hi',
    textOffset: 0,
    ...changes,
  }
}

function toolsBackend(views: Record<string, ConversationViewDto> = {}) {
  return fakeBackend({
    vault_status: () => status(),
    vault_lock: () => null,
    get_settings: () => ({ autoLockMinutes: null }),
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })],
    list_unfiled_conversations: ({ limit, offset }) => [summary('c1', 10, false, 'Zebras')].slice(offset, offset + limit),
    open_conversation: ({ id }) => {
      if (views[id] === undefined) throw commandError('NotFound', 'no such conversation')
      return structuredClone(views[id])
    },
    list_tool_servers: () => structuredClone(servers),
    list_tool_grants: () => structuredClone(grants),
    add_tool_server: ({ server: input }) => {
      const added = server(input.name, {
        command: input.transport.command,
        args: input.transport.args,
        envNames: input.transport.env.map((e: { name: string }) => e.name),
      })
      servers = [...servers, added]
      return added
    },
    set_tool_server_enabled: ({ name, enabled }) => {
      servers = servers.map((s) => (s.name === name ? { ...s, enabled } : s))
      return servers.find((s) => s.name === name)
    },
    remove_tool_server: ({ name }) => {
      servers = servers.filter((s) => s.name !== name)
      return true
    },
    revoke_tool_grant: ({ server: s, tool, conversationId }) => {
      grants = grants.filter((g) => !(g.server === s && g.tool === tool && g.conversationId === (conversationId ?? null)))
      return true
    },
    set_conversation_tool_servers: ({ servers: chosen }) => chosen,
    cancel_reply: () => true,
  })
}

async function start(): Promise<Hearth> {
  const hearth = new Hearth()
  app = mount(App, { target: document.body, props: { hearth } })
  flushSync()
  await settle()
  flushSync()
  return hearth
}

async function openToolSettings(): Promise<void> {
  backend = toolsBackend()
  await start()
  click(await until(() => hook('settings')))
  click(need('settings-tab-tools'))
  await until(() => hooks('tool-server-item').length === servers.length && hook('tool-server-add'), 'the tools page')
}

beforeEach(() => {
  document.body.innerHTML = ''
  servers = []
  grants = []
  delete (window as { __pwned?: unknown }).__pwned
})

afterEach(() => {
  if (app !== null) unmount(app)
  app = null
  resetBackend()
})

describe('placing calls in a reply', () => {
  it('splits the text at each call and keeps every character and card', () => {
    const calls = [call('a', { textOffset: 5 }), call('b', { textOffset: 5 }), call('c', { textOffset: 11 })]
    const segments = replySegments('Look.Found.Done', calls)
    expect(segments.map((s) => [s.text, s.calls.map((c) => c.id)])).toEqual([
      ['Look.', ['a', 'b']],
      ['Found.', ['c']],
      ['Done', []],
    ])
    // Odd offsets (past the end, out of order) misplace nothing.
    const odd = replySegments('abc', [call('x', { textOffset: 99 }), call('y', { textOffset: 1 })])
    expect(odd.map((s) => s.text).join('')).toBe('abc')
    expect(odd.flatMap((s) => s.calls.map((c) => c.id))).toEqual(['x', 'y'])
    // Calls before any text, and a reply without calls.
    expect(replySegments('Hi', [call('z', { textOffset: 0 })])).toEqual([
      { text: '', calls: [expect.objectContaining({ id: 'z' })] },
      { text: 'Hi', calls: [] },
    ])
    expect(replySegments('Hi', [])).toEqual([{ text: 'Hi', calls: [] }])
  })

  it('collapses long results and shows at most a bounded part', () => {
    expect(isLongResult('short')).toBe(false)
    expect(isLongResult('x'.repeat(401))).toBe(true)
    expect(isLongResult('a\n'.repeat(9))).toBe(true)
    const huge = shownResult('y'.repeat(MAX_SHOWN_RESULT + 5))
    expect(huge.text).toHaveLength(MAX_SHOWN_RESULT)
    expect(huge.omitted).toBe(5)
  })
})

describe('the add form', () => {
  it('turns one argument per line and the rows into the command input', () => {
    const draft = { ...emptyDraft(), name: ' py ', command: ' python3 ', args: 'server.py\n\n--label\r\nwith space\n' }
    draft.env = [
      { name: 'TOKEN', value: 's3cret' },
      { name: '', value: '' },
    ]
    expect(serverInput(draft)).toEqual({
      name: 'py',
      transport: { kind: 'stdio', command: 'python3', args: ['server.py', '--label', 'with space'], env: [{ name: 'TOKEN', value: 's3cret' }] },
    })
    expect(() => serverInput({ ...draft, env: [{ name: '', value: 'orphan' }] })).toThrow(/name/)
    expect(() => serverInput({ ...emptyDraft(), name: 'x' })).toThrow(/program/)
    expect(serverInput({ ...emptyDraft(), name: 'web', transport: 'http', url: 'https://tools.example/mcp' })).toEqual({
      name: 'web',
      transport: { kind: 'http', url: 'https://tools.example/mcp', headers: [] },
    })
  })
})

describe('Settings → Tools', () => {
  it('adds a stdio server whose variable values go to the command and never back to the page', async () => {
    await openToolSettings()
    expect(need('tool-server-add').textContent).toContain('Add a server')
    click(need('tool-server-add'))
    type(need('tool-server-name'), 'py')
    type(need('tool-server-command'), '/usr/bin/python3')
    type(need('tool-server-args'), 'tests/server.py\nstdio')
    click(need('tool-server-env-add'))
    type(need('tool-server-env-name'), 'API_TOKEN')
    const value = need('tool-server-env-value') as HTMLInputElement
    expect(value.type).toBe('password')
    type(value, 'tok-very-secret-1234')
    click(need('tool-server-save'))
    await until(() => hooks('tool-server-item').length === 1, 'the new server in the list')

    expect(backend.called('add_tool_server')[0].args).toEqual({
      server: {
        name: 'py',
        transport: {
          kind: 'stdio',
          command: '/usr/bin/python3',
          args: ['tests/server.py', 'stdio'],
          env: [{ name: 'API_TOKEN', value: 'tok-very-secret-1234' }],
        },
      },
    })
    expect(hook('tool-server-env-value')).toBeNull()
    const item = need('tool-server-item')
    expect(item.dataset.name).toBe('py')
    expect(need('tool-server-where', item).textContent).toContain('/usr/bin/python3 tests/server.py stdio')
    expect(need('tool-server-secrets', item).textContent).toContain('API_TOKEN')
    expect(document.body.innerHTML).not.toContain('tok-very-secret-1234')
  })

  it('adds an HTTP server with a header whose value is a password field', async () => {
    await openToolSettings()
    backend.handlers.add_tool_server = ({ server: input }) => {
      const added = server(input.name, {
        transport: 'http',
        command: null,
        args: [],
        url: input.transport.url,
        headerNames: input.transport.headers.map((h: { name: string }) => h.name),
      })
      servers = [...servers, added]
      return added
    }
    click(need('tool-server-add'))
    type(need('tool-server-name'), 'web')
    click(need('tool-server-transport-http'))
    await until(() => hook('tool-server-url'), 'the URL field')
    expect(hook('tool-server-command')).toBeNull()
    type(need('tool-server-url'), 'https://tools.example/mcp')
    click(need('tool-server-header-add'))
    type(need('tool-server-header-name'), 'Authorization')
    expect((need('tool-server-header-value') as HTMLInputElement).type).toBe('password')
    type(need('tool-server-header-value'), 'Bearer hdr-secret-5678')
    click(need('tool-server-save'))
    await until(() => hooks('tool-server-item').length === 1, 'the new server')
    expect(backend.called('add_tool_server')[0].args).toEqual({
      server: {
        name: 'web',
        transport: { kind: 'http', url: 'https://tools.example/mcp', headers: [{ name: 'Authorization', value: 'Bearer hdr-secret-5678' }] },
      },
    })
    expect(need('tool-server-where').textContent).toContain('https://tools.example/mcp')
    expect(need('tool-server-secrets').textContent).toContain('Headers: Authorization')
    expect(document.body.innerHTML).not.toContain('hdr-secret-5678')
  })

  it('shows the engine’s refusal and keeps the form', async () => {
    await openToolSettings()
    backend.handlers.add_tool_server = () => {
      throw commandError('Invalid', 'MCP server "Bad Name": a name is 1 to 64 lowercase letters')
    }
    click(need('tool-server-add'))
    type(need('tool-server-name'), 'Bad Name')
    type(need('tool-server-command'), 'x')
    click(need('tool-server-save'))
    const problem = await until(() => hook('tool-server-problem'), 'the refusal')
    expect(problem.textContent).toContain('lowercase')
    expect((need('tool-server-name') as HTMLInputElement).value).toBe('Bad Name')
  })

  it('lists a server’s tools as plain text, switches it off, and removes it after asking', async () => {
    servers = [server('py', { envNames: ['MCP_CALL_LOG'] })]
    await openToolSettings()
    backend.handlers.list_server_tools = () => [
      { name: 'echo', description: `Return the text. ${HOSTILE}` },
      { name: 'add', description: 'Add two integers.' },
    ]
    click(need('tool-server-show-tools'))
    await until(() => hooks('tool-server-tool').length === 2, 'the tools')
    expect(backend.called('list_server_tools')[0].args).toEqual({ name: 'py' })
    expect(hooks('tool-server-tool').map((t) => t.dataset.name)).toEqual(['echo', 'add'])
    expect(need('tool-server-tools').textContent).toContain(HOSTILE)
    expect(document.querySelector('.tools img, .tools script')).toBeNull()
    await settle()
    expect((window as { __pwned?: unknown }).__pwned).toBeUndefined()

    const toggle = need('tool-server-enabled') as HTMLInputElement
    expect(toggle.checked).toBe(true)
    expect(toggle.getAttribute('role')).toBe('switch')
    click(toggle)
    await until(() => backend.called('set_tool_server_enabled').length === 1)
    expect(backend.called('set_tool_server_enabled')[0].args).toEqual({ name: 'py', enabled: false })
    await until(() => (need('tool-server-enabled') as HTMLInputElement).checked === false, 'the switch off')

    click(need('tool-server-remove'))
    expect(backend.called('remove_tool_server')).toHaveLength(0)
    click(need('tool-server-remove-confirm'))
    await until(() => hooks('tool-server-item').length === 0, 'the server gone')
    expect(backend.called('remove_tool_server')[0].args).toEqual({ name: 'py' })
  })

  it('says why a server’s tools could not be listed', async () => {
    servers = [server('broken')]
    await openToolSettings()
    backend.handlers.list_server_tools = () => {
      throw commandError('ToolServer', 'MCP server "broken" did not start: it exited')
    }
    click(need('tool-server-show-tools'))
    const error = await until(() => hook('tool-server-tools-error'), 'the error')
    expect(error.textContent).toContain('did not start')
  })

  it('lists grants, always first, with the conversation’s title, and revokes one', async () => {
    servers = [server('py')]
    grants = [
      { server: 'py', tool: 'echo', conversationId: null, conversationTitle: null, createdAt: 1 },
      { server: 'py', tool: 'add', conversationId: 'c1', conversationTitle: 'Zebras', createdAt: 2 },
    ]
    await openToolSettings()
    await until(() => hooks('tool-grant').length === 2, 'the grants')
    const [always, inOne] = hooks('tool-grant')
    expect(always.dataset.scope).toBe('always')
    expect(always.textContent).toContain('py / echo')
    expect(inOne.dataset.scope).toBe('conversation')
    expect(inOne.textContent).toContain('Zebras')
    click(need('tool-grant-revoke', always))
    await until(() => hooks('tool-grant').length === 1, 'the always grant gone')
    expect(backend.called('revoke_tool_grant')[0].args).toEqual({ server: 'py', tool: 'echo' })
    click(need('tool-grant-revoke', hooks('tool-grant')[0]))
    await until(() => hooks('tool-grant').length === 0, 'both gone')
    expect(backend.called('revoke_tool_grant')[1].args).toEqual({ server: 'py', tool: 'add', conversationId: 'c1' })
  })
})

function started(conversationId: string, userMessageId: string, messageId: string): ReplyStartedDto {
  return { requestId: 'ignored', conversationId, userMessageId, messageId }
}

describe('the tool picker', () => {
  it('keeps a new chat’s choice and sends it with the first message', async () => {
    servers = [server('py'), server('web', { enabled: false })]
    backend = toolsBackend()
    backend.handlers.send_message = () => new Promise(() => {})
    await start()
    const picker = await until(() => hook('tool-picker'), 'the tool picker')
    expect(picker.textContent).toContain('Tools off')
    click(picker)
    const boxes = hooks('tool-picker-server') as HTMLInputElement[]
    expect(boxes.map((b) => [b.dataset.name, b.checked, b.disabled])).toEqual([
      ['py', false, false],
      ['web', false, true],
    ])
    click(boxes[0])
    await until(() => need('tool-picker').textContent?.includes('py'), 'the picker naming py')
    expect(backend.called('set_conversation_tool_servers')).toHaveLength(0)

    type(need('composer'), 'Use the tools')
    click(need('send'))
    await settle()
    expect(backend.called('send_message')[0].args).toMatchObject({ text: 'Use the tools', tools: ['py'] })
  })

  it('saves a conversation’s choice at once, and a message sent there names no servers', async () => {
    servers = [server('py')]
    backend = toolsBackend({
      c1: { conversation: conversation('c1'), toolServers: ['py'], settings: { temperature: null, maxTokens: null, reasoning: null }, messages: [message('u1', 'user', 'Hi')] },
    })
    backend.handlers.send_message = () => new Promise(() => {})
    await start()
    click(await until(() => hook('conversation-item')))
    await until(() => need('tool-picker').textContent?.includes('py'), 'the saved choice')
    click(need('tool-picker'))
    const box = need('tool-picker-server') as HTMLInputElement
    expect(box.checked).toBe(true)
    click(box)
    await until(() => backend.called('set_conversation_tool_servers').length === 1)
    expect(backend.called('set_conversation_tool_servers')[0].args).toEqual({ id: 'c1', servers: [] })
    await until(() => need('tool-picker').textContent?.includes('Tools off'), 'the picker off')

    type(need('composer'), 'Again')
    click(need('send'))
    await settle()
    expect(backend.called('send_message')[0].args.tools).toBeUndefined()
  })
})

describe('tool calls in a reply', () => {
  async function streaming(): Promise<{ send: () => ReturnType<FakeBackend['called']>[number] }> {
    servers = [server('py')]
    backend = toolsBackend({
      c1: { conversation: conversation('c1'), toolServers: ['py'], settings: { temperature: null, maxTokens: null, reasoning: null }, messages: [message('u1', 'user', 'Hi')] },
    })
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.send_message = () => answer.promise
    await start()
    click(await until(() => hook('conversation-item')))
    await until(() => hooks('message').length === 1, 'the conversation')
    type(need('composer'), 'Echo something')
    click(need('send'))
    await settle()
    answer.resolve(started('c1', 'u2', 'a2'))
    await settle()
    return { send: () => backend.called('send_message')[0] }
  }

  it('asks with the arguments as text, sends the answer, and shows the result after the text before it', async () => {
    const { send } = await streaming()
    const decide = deferred<null>()
    backend.handlers.decide_tool_call = () => decide.promise
    emit(send(), { event: 'text', data: { text: 'Let me check. ' } })
    const waiting = call('t1', { arguments: `{\n  "text": "${HOSTILE}"\n}`, status: 'awaiting', result: null, textOffset: 14 })
    emit(send(), { event: 'toolApproval', data: { call: waiting } })
    const card = await until(() => hook('tool-call'), 'the approval card')

    expect(card.dataset.status).toBe('awaiting')
    expect(need('tool-call-name', card).textContent).toBe('echo')
    expect(card.textContent).toContain('on py')
    expect(need('tool-call-arguments', card).textContent).toContain(HOSTILE)
    expect((need('tool-call-arguments', card).closest('details') as HTMLDetailsElement).open).toBe(true)
    expect(card.querySelector('img, script')).toBeNull()
    const buttons = ['tool-deny', 'tool-allow-once', 'tool-allow-conversation', 'tool-allow-always'].map((id) => need(id, card))
    expect(buttons.map((b) => b.textContent?.trim())).toEqual(['Deny', 'Allow once', 'Allow in this conversation', 'Always allow'])
    // Real buttons, in the tab order.
    for (const b of buttons) {
      expect(b.tagName).toBe('BUTTON')
      expect((b as HTMLButtonElement).disabled).toBe(false)
      expect(b.tabIndex).toBe(0)
    }
    // The card comes after the text written before the call.
    const content = need('message-content', hooks('message').at(-1)!)
    expect(content.firstElementChild?.textContent).toContain('Let me check.')
    expect(content.lastElementChild).toBe(card)

    click(need('tool-allow-conversation', card))
    expect(backend.called('decide_tool_call')[0].args).toEqual({
      id: backend.called('send_message')[0].args.requestId,
      callId: 't1',
      decision: 'conversation',
    })
    // One answer per card: the buttons wait while the reply takes it.
    await until(() => (need('tool-deny') as HTMLButtonElement).disabled, 'the buttons waiting')
    decide.resolve(null)
    await settle()
    emit(send(), { event: 'toolStarted', data: { call: { ...waiting, status: 'running' } } })
    await until(() => need('tool-call').dataset.status === 'running', 'the running call')
    expect(hook('tool-deny')).toBeNull()
    expect(need('tool-call-status').textContent).toContain('Running')

    emit(send(), { event: 'toolResult', data: { call: { ...waiting, status: 'approved', result: `Echo: ${HOSTILE}` } } })
    const result = await until(() => hook('tool-call-result'), 'the result')
    expect(result.textContent).toBe(`Echo: ${HOSTILE}`)
    expect(document.querySelector('[data-testid="tool-call"] img, [data-testid="tool-call"] script')).toBeNull()

    emit(send(), { event: 'text', data: { text: 'It said it back.' } })
    await until(() => need('message-content', hooks('message').at(-1)!).lastElementChild?.textContent?.includes('It said it back.'), 'the text after the call')
    await settle()
    expect((window as { __pwned?: unknown }).__pwned).toBeUndefined()
  })

  it('sends Deny, Allow once and Always allow as they say', async () => {
    const { send } = await streaming()
    backend.handlers.decide_tool_call = () => null
    for (const [i, [button, decision]] of [
      ['tool-deny', 'deny'],
      ['tool-allow-once', 'once'],
      ['tool-allow-always', 'always'],
    ].entries()) {
      const waiting = call(`t${i}`, { status: 'awaiting', result: null })
      emit(send(), { event: 'toolApproval', data: { call: waiting } })
      const card = await until(() => hooks('tool-call').find((c) => c.dataset.callId === `t${i}` && hook(button, c)), 'the card')
      click(need(button, card))
      await settle()
      expect(backend.called('decide_tool_call')[i].args).toMatchObject({ callId: `t${i}`, decision })
      emit(send(), { event: 'toolResult', data: { call: { ...waiting, status: decision === 'deny' ? 'denied' : 'approved', result: 'ok' } } })
    }
    await until(() => hooks('tool-call').every((c) => c.dataset.status !== 'awaiting'), 'every call answered')
    expect(hooks('tool-call').map((c) => c.dataset.status)).toEqual(['denied', 'approved', 'approved'])
  })

  it('lets the buttons answer again when the reply refused the answer', async () => {
    const { send } = await streaming()
    backend.handlers.decide_tool_call = () => {
      throw commandError('Invalid', 'that tool call is not waiting for an answer')
    }
    emit(send(), { event: 'toolApproval', data: { call: call('t1', { status: 'awaiting', result: null }) } })
    click(await until(() => hook('tool-allow-once'), 'the card'))
    await until(() => document.body.textContent?.includes('not waiting for an answer'), 'the notice')
    expect((need('tool-allow-once') as HTMLButtonElement).disabled).toBe(false)
  })

  it('stops a reply that waits for an answer', async () => {
    const { send } = await streaming()
    emit(send(), { event: 'toolApproval', data: { call: call('t1', { status: 'awaiting', result: null }) } })
    await until(() => hook('tool-call'), 'the card')
    click(need('stop'))
    await settle()
    expect(backend.called('cancel_reply')[0].args).toEqual({ id: backend.called('send_message')[0].args.requestId })
  })

  it('shows saved calls where they happened, results collapsed when long, with no buttons', async () => {
    servers = [server('py')]
    const long = 'line\n'.repeat(50)
    backend = toolsBackend({
      c1: {
        conversation: conversation('c1'),
        toolServers: ['py'],
        settings: { temperature: null, maxTokens: null, reasoning: null },
        messages: [
          message('u1', 'user', 'Hi'),
          message('a1', 'assistant', 'First. Then. Done.', {
            parentId: 'u1',
            toolCalls: [
              call('s1', { textOffset: 6, status: 'denied', result: 'The user denied this tool call; it did not run.' }),
              call('s2', { textOffset: 12, tool: 'add', result: long }),
              call('s3', { textOffset: 12, status: 'pending', result: null, arguments: HOSTILE }),
            ],
          }),
        ],
      },
    })
    await start()
    click(await until(() => hook('conversation-item')))
    await until(() => hooks('tool-call').length === 3, 'the saved calls')
    const content = need('message-content', hooks('message').at(-1)!)
    const order = Array.from(content.children).map((el) =>
      el.matches('[data-testid="tool-call"]') ? (el as HTMLElement).dataset.callId : el.textContent?.trim(),
    )
    expect(order).toEqual(['First.', 's1', 'Then.', 's2', 's3', 'Done.'])
    const [denied, added, pending] = hooks('tool-call')
    expect(need('tool-call-status', denied).textContent).toBe('Denied')
    expect((need('tool-call-arguments', denied).closest('details') as HTMLDetailsElement).open).toBe(false)
    expect((need('tool-call-result', denied).closest('details') as HTMLDetailsElement).open).toBe(true)
    expect((need('tool-call-result', added).closest('details') as HTMLDetailsElement).open).toBe(false)
    expect(need('tool-call-arguments', pending).textContent).toBe(HOSTILE)
    expect(hook('tool-deny')).toBeNull()
    expect(content.querySelector('img, script')).toBeNull()
  })
})

describe('the auto-lock', () => {
  it('is not held off by a reply that only waits for the user’s answer', async () => {
    servers = [server('py')]
    backend = toolsBackend({
      c1: { conversation: conversation('c1'), toolServers: ['py'], settings: { temperature: null, maxTokens: null, reasoning: null }, messages: [message('u1', 'user', 'Hi')] },
    })
    const answer = deferred<ReplyStartedDto>()
    backend.handlers.send_message = () => answer.promise
    const hearth = await start()
    click(await until(() => hook('conversation-item')))
    await until(() => hooks('message').length === 1)
    type(need('composer'), 'Go')
    click(need('send'))
    await settle()
    answer.resolve(started('c1', 'u2', 'a2'))
    await settle()
    expect(hearth.chat.busy).toBe(true)
    emit(backend.called('send_message')[0], { event: 'toolApproval', data: { call: call('t1', { status: 'awaiting', result: null }) } })
    await until(() => hook('tool-call'))
    expect(hearth.chat.busy).toBe(false)
  })
})
