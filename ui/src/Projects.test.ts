// Projects, saved prompts, model settings and search filters, mounted whole against
// a fake Rust side that keeps its own projects, conversations and prompts.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import App from './App.svelte'
import { Hearth } from './lib/app.svelte'
import { CONVERSATION_TYPE } from './lib/drag'
import type {
  ConversationSummaryDto,
  ConversationViewDto,
  ModelSettingsDto,
  ProjectDto,
  PromptDto,
  VaultStatusDto,
} from './lib/types'
import { fakeBackend, resetBackend, settle, type FakeBackend } from './test/backend'
import { click, hook, hooks, need, press, type, until } from './test/dom'
import { conversation, message, provider, summary } from './test/fixtures'

const NONE: ModelSettingsDto = { temperature: null, maxTokens: null, reasoning: null }

let app: ReturnType<typeof mount> | null = null
let backend: FakeBackend
let projects: ProjectDto[]
let conversations: ConversationSummaryDto[]
let prompts: PromptDto[]

function status(): VaultStatusDto {
  return {
    state: 'unlocked',
    mode: 'passphrase',
    dataDir: '/home/me/.local/share/hearth',
    conversations: 2,
    messages: 4,
    keychainAvailable: true,
  }
}

function project(id: string, name: string, changes: Partial<ProjectDto> = {}): ProjectDto {
  return {
    id,
    name,
    instructions: '',
    providerId: null,
    model: null,
    settings: NONE,
    createdAt: 1,
    updatedAt: 1,
    ...changes,
  }
}

function view(id: string): ConversationViewDto {
  const s = conversations.find((c) => c.id === id)!
  return {
    conversation: conversation(id, { title: s.title, projectId: s.projectId, archived: s.archived }),
    toolServers: [],
    settings: NONE,
    messages: [
      message(`${id}-u`, 'user', 'Tell me about zebras and more zebras'),
      message(`${id}-a`, 'assistant', 'A **zebra** has stripes. Zebras live in herds.'),
    ],
  }
}

function projectsBackend() {
  return fakeBackend({
    vault_status: () => status(),
    vault_lock: () => null,
    get_settings: () => ({ autoLockMinutes: null }),
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })],
    list_unfiled_conversations: ({ limit, offset }) =>
      conversations.filter((c) => c.projectId === null && !c.archived).slice(offset, offset + limit),
    list_project_conversations: ({ projectId, limit, offset }) =>
      conversations.filter((c) => c.projectId === projectId && !c.archived).slice(offset, offset + limit),
    list_archived_conversations: ({ limit, offset }) => conversations.filter((c) => c.archived).slice(offset, offset + limit),
    list_projects: () =>
      projects.map((p) => ({
        project: structuredClone(p),
        conversations: conversations.filter((c) => c.projectId === p.id && !c.archived).length,
        files: 0,
      })),
    create_project: ({ name, instructions }) => {
      const made = project(`p${projects.length + 1}`, name, { instructions })
      projects = [...projects, made]
      return made
    },
    change_project: ({ id, change }) => {
      projects = projects.map((p) =>
        p.id === id
          ? {
              ...p,
              name: change.name ?? p.name,
              instructions: change.instructions ?? p.instructions,
              settings: change.settings ?? p.settings,
              providerId: change.model ? change.model.providerId : p.providerId,
              model: change.model ? change.model.model : p.model,
            }
          : p,
      )
      return projects.find((p) => p.id === id)
    },
    delete_project: ({ id, deleteConversations }) => {
      const inside = conversations.filter((c) => c.projectId === id)
      conversations = deleteConversations
        ? conversations.filter((c) => c.projectId !== id)
        : conversations.map((c) => (c.projectId === id ? { ...c, projectId: null } : c))
      projects = projects.filter((p) => p.id !== id)
      return deleteConversations ? inside.length : 0
    },
    list_project_files: () => [],
    move_conversation: ({ id, projectId }) => {
      conversations = conversations.map((c) => (c.id === id ? { ...c, projectId: projectId ?? null } : c))
      return null
    },
    open_conversation: ({ id }) => view(id),
    set_conversation_settings: () => null,
    search_conversations: () => [],
    list_prompts: () => structuredClone(prompts),
    create_prompt: ({ name, text }) => {
      const made = { id: `q${prompts.length + 1}`, name, text, createdAt: 1, updatedAt: 1 }
      prompts = [...prompts, made]
      return made
    },
    send_message: () => new Promise(() => {}),
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

/** The titles of the conversation rows on screen. */
function rows(): string[] {
  return hooks('conversation-title').map((t) => t.textContent ?? '')
}

function projectRow(id: string): HTMLElement {
  return need('project-item', document).parentElement!.querySelector<HTMLElement>(`[data-testid="project-item"][data-id="${id}"]`)!
}

/** A drag event carrying `data` (jsdom has no DataTransfer; WebKit's behaves like this). */
function dragEvent(type: string, data: Map<string, string>): Event {
  const event = new Event(type, { bubbles: true, cancelable: true })
  Object.defineProperty(event, 'dataTransfer', {
    value: {
      get types() {
        return Array.from(data.keys())
      },
      getData: (t: string) => data.get(t) ?? '',
      setData: (t: string, v: string) => void data.set(t, v),
      effectAllowed: 'uninitialized',
      dropEffect: 'none',
    },
  })
  return event
}

beforeEach(() => {
  document.body.innerHTML = ''
  projects = [project('p1', 'Garden', { instructions: 'Answer as a gardener.' }), project('p2', 'Taxes')]
  conversations = [
    summary('c1', 30, false, 'Zebras'),
    summary('c2', 20, false, 'Roses'),
    { ...summary('c3', 10, false, 'Compost'), projectId: 'p1' },
  ]
  prompts = [
    { id: 'q1', name: 'Code review', text: 'Review this code for bugs:', createdAt: 1, updatedAt: 1 },
    { id: 'q2', name: 'Translate', text: 'Translate into French:', createdAt: 1, updatedAt: 1 },
  ]
  backend = projectsBackend()
})

afterEach(() => {
  if (app !== null) unmount(app)
  app = null
  resetBackend()
})

describe('projects in the sidebar', () => {
  it('lists projects with their counts, and the main list holds only conversations in none', async () => {
    await start()
    await until(() => hooks('project-item').length === 2, 'the projects')
    expect(hooks('project-name').map((n) => n.textContent)).toEqual(['Garden', 'Taxes'])
    expect(hooks('project-count').map((n) => n.textContent)).toEqual(['1', '0'])
    await until(() => rows().length === 2, 'the main list')
    expect(rows()).toEqual(['Zebras', 'Roses'])
  })

  it("shows a project's conversations, and a new chat there starts in it", async () => {
    await start()
    click(await until(() => projectRow('p1')?.querySelector<HTMLElement>('[data-testid="project-open"]')))
    await until(() => rows().length === 1 && rows()[0] === 'Compost', "the project's conversations")
    expect(need('project-heading-name').textContent).toBe('Garden')
    expect(backend.called('list_project_conversations')[0].args).toMatchObject({ projectId: 'p1', offset: 0 })

    click(need('project-new-chat'))
    expect(need('chat-project').textContent).toContain('Garden')
    const composer = need('composer') as HTMLTextAreaElement
    type(composer, 'What grows in shade?')
    press('Enter', {}, composer)
    expect(backend.called('send_message')[0].args).toMatchObject({ text: 'What grows in shade?', projectId: 'p1' })

    click(need('project-close'))
    await until(() => rows().length === 2, 'the main list again')
  })

  it('moves a conversation dropped on a project, and drops onto "Chats" take it out', async () => {
    await start()
    await until(() => rows().length === 2)
    const row = hooks('conversation-item').find((r) => r.dataset.id === 'c2')!
    expect(row.getAttribute('draggable')).toBe('true')
    const data = new Map<string, string>()
    row.dispatchEvent(dragEvent('dragstart', data))
    expect(data.get(CONVERSATION_TYPE)).toBe('c2')

    const target = projectRow('p2')
    const over = dragEvent('dragover', data)
    target.dispatchEvent(over)
    expect(over.defaultPrevented, 'the project accepts the drag').toBe(true)
    target.dispatchEvent(dragEvent('drop', data))
    await until(() => backend.called('move_conversation').length === 1, 'the move')
    expect(backend.called('move_conversation')[0].args).toEqual({ id: 'c2', projectId: 'p2' })
    await until(() => rows().length === 1 && hooks('project-count')[1].textContent === '1', 'the lists to follow')
    expect(rows()).toEqual(['Zebras'])

    // A file or text dragged in is not a conversation: not accepted, nothing moves.
    const text = new Map([['text/plain', 'c1']])
    const foreign = dragEvent('dragover', text)
    target.dispatchEvent(foreign)
    expect(foreign.defaultPrevented).toBe(false)
    target.dispatchEvent(dragEvent('drop', text))
    await settle()
    expect(backend.called('move_conversation')).toHaveLength(1)

    // Back out: open the project and drop its row on "Chats"… which only the main view has.
    click(projectRow('p2').querySelector<HTMLElement>('[data-testid="project-open"]')!)
    await until(() => rows()[0] === 'Roses')
    const moved = new Map<string, string>()
    hooks('conversation-item')[0].dispatchEvent(dragEvent('dragstart', moved))
    click(need('project-close'))
    await until(() => hook('chats-heading'))
    need('chats-heading').dispatchEvent(dragEvent('drop', moved))
    await until(() => backend.called('move_conversation').length === 2)
    expect(backend.called('move_conversation')[1].args).toEqual({ id: 'c2' })
    await until(() => rows().length === 2, 'back in the main list')
  })

  it('moves through the row menu with the keyboard, and removes from a project', async () => {
    await start()
    await until(() => rows().length === 2)
    const row = hooks('conversation-item').find((r) => r.dataset.id === 'c1')!
    click(row.querySelector<HTMLElement>('[data-testid="conversation-menu"]')!)
    const menu = await until(() => hook('row-menu'), 'the menu')
    await until(() => document.activeElement === need('conversation-pin'), 'focus in the menu')
    press('ArrowDown', {}, menu)
    expect(document.activeElement).toBe(need('conversation-move'))
    expect(hook('conversation-unfile'), 'not in a project: nothing to remove from').toBeNull()
    press('Enter', {}, menu)
    click(need('conversation-move'))
    const dialog = await until(() => hook('move-dialog'))
    const garden = Array.from(dialog.querySelectorAll<HTMLElement>('[data-testid="move-target"]')).find(
      (b) => b.dataset.id === 'p1',
    )!
    click(garden)
    await until(() => backend.called('move_conversation').length === 1)
    expect(backend.called('move_conversation')[0].args).toEqual({ id: 'c1', projectId: 'p1' })
    await until(() => hook('move-dialog') === null && rows().length === 1)

    click(projectRow('p1').querySelector<HTMLElement>('[data-testid="project-open"]')!)
    await until(() => rows().length === 2, 'both in the project')
    const inProject = hooks('conversation-item').find((r) => r.dataset.id === 'c1')!
    click(inProject.querySelector<HTMLElement>('[data-testid="conversation-menu"]')!)
    click(await until(() => hook('conversation-unfile')))
    await until(() => backend.called('move_conversation').length === 2)
    expect(backend.called('move_conversation')[1].args).toEqual({ id: 'c1' })
    await until(() => rows().length === 1, 'it left the project')

    // Escape closes the menu and gives focus back to its button.
    const last = hooks('conversation-item')[0]
    click(last.querySelector<HTMLElement>('[data-testid="conversation-menu"]')!)
    await until(() => hook('row-menu'))
    press('Escape', {}, need('row-menu'))
    expect(hook('row-menu')).toBeNull()
  })

  it('creates a project, and deleting one asks what becomes of its conversations', async () => {
    await start()
    click(await until(() => hook('project-new')))
    type(need('project-name-input'), 'Recipes')
    type(need('project-instructions'), 'Metric units.')
    click(need('project-save'))
    await until(() => backend.called('create_project').length === 1)
    expect(backend.called('create_project')[0].args).toEqual({ name: 'Recipes', instructions: 'Metric units.' })
    await until(() => hook('project-heading-name')?.textContent === 'Recipes', 'the new project open')

    click(projectRow('p1').querySelector<HTMLElement>('[data-testid="project-open"]')!)
    await until(() => hook('project-heading-name')?.textContent === 'Garden')
    click(need('project-settings'))
    await until(() => hook('project-dialog'))
    expect((need('project-instructions') as HTMLTextAreaElement).value).toBe('Answer as a gardener.')
    type(need('project-settings-temperature'), '0.4')
    need('project-settings-temperature').dispatchEvent(new Event('change', { bubbles: true }))
    click(need('project-save'))
    await until(() => backend.called('change_project').length === 1)
    expect(backend.called('change_project')[0].args.change).toMatchObject({
      instructions: 'Answer as a gardener.',
      settings: { temperature: 0.4, maxTokens: null, reasoning: null },
      model: { providerId: null, model: null },
    })

    click(need('project-settings'))
    await until(() => hook('project-dialog'))
    click(need('project-delete'))
    const ask = await until(() => hook('project-delete-dialog'))
    expect(need('project-delete-conversations').textContent).toContain('Delete its conversation too')
    expect(ask.textContent).toContain('Keep them (move out)')
    click(need('project-delete-keep'))
    await until(() => backend.called('delete_project').length === 1)
    expect(backend.called('delete_project')[0].args).toEqual({ id: 'p1', deleteConversations: false })
    await until(
      () => hook('project-heading') === null && rows().includes('Compost') && !hooks('project-name').some((n) => n.textContent === 'Garden'),
      'its conversation moved out to the main list, and the project gone',
    )
    expect(rows()).toEqual(['Zebras', 'Roses', 'Compost'])
  })
})

describe('model settings beside the model picker', () => {
  it('are kept for a new chat and sent with its first message', async () => {
    await start()
    const button = await until(() => hook('model-settings'))
    expect(button.textContent?.trim()).toBe('Settings')
    click(button)
    const temperature = need('model-settings-temperature') as HTMLInputElement
    type(temperature, '0.7')
    temperature.dispatchEvent(new Event('change', { bubbles: true }))
    const tokens = need('model-settings-max-tokens') as HTMLInputElement
    type(tokens, '2k')
    tokens.dispatchEvent(new Event('change', { bubbles: true }))
    const reasoning = need('model-settings-reasoning') as HTMLSelectElement
    reasoning.value = 'high'
    reasoning.dispatchEvent(new Event('change', { bubbles: true }))
    flushSync()
    expect(need('model-settings').textContent?.trim()).toBe('T 0.7 · 2k · high')
    expect(backend.called('set_conversation_settings')).toHaveLength(0)

    type(tokens, '0')
    tokens.dispatchEvent(new Event('change', { bubbles: true }))
    flushSync()
    expect(need('model-settings-error').textContent).toMatch(/whole number of tokens/)

    const composer = need('composer') as HTMLTextAreaElement
    type(composer, 'Hello')
    press('Enter', {}, composer)
    expect(backend.called('send_message')[0].args.settings).toEqual({ temperature: 0.7, maxTokens: 2000, reasoning: 'high' })
  })

  it('are saved with an open conversation at once', async () => {
    await start()
    click(await until(() => hooks('conversation-item')[0]?.querySelector<HTMLElement>('.open')))
    await until(() => hooks('message').length === 2)
    click(need('model-settings'))
    const temperature = need('model-settings-temperature') as HTMLInputElement
    type(temperature, '1.1')
    temperature.dispatchEvent(new Event('change', { bubbles: true }))
    await until(() => backend.called('set_conversation_settings').length === 1)
    expect(backend.called('set_conversation_settings')[0].args).toEqual({
      id: 'c1',
      settings: { temperature: 1.1, maxTokens: null, reasoning: null },
    })
    await until(() => need('model-settings').textContent?.trim() === 'T 1.1')
  })
})

describe('the / prompt picker', () => {
  async function composer(): Promise<HTMLTextAreaElement> {
    await start()
    return (await until(() => hook('composer'))) as HTMLTextAreaElement
  }

  function typeAt(area: HTMLTextAreaElement, text: string) {
    area.value = text
    area.setSelectionRange(text.length, text.length)
    area.dispatchEvent(new Event('input', { bubbles: true }))
    flushSync()
  }

  it('opens on /, filters as you type, and the keys choose without sending', async () => {
    const area = await composer()
    typeAt(area, '/')
    expect(hooks('prompt-option').map((o) => o.textContent)).toEqual([
      expect.stringContaining('Code review'),
      expect.stringContaining('Translate'),
    ])
    typeAt(area, '/tra')
    expect(hooks('prompt-option')).toHaveLength(1)
    typeAt(area, '/')
    press('ArrowDown', {}, area)
    expect(hooks('prompt-option')[1].getAttribute('aria-selected')).toBe('true')
    expect(area.getAttribute('aria-activedescendant')).toBe(hooks('prompt-option')[1].id)
    press('ArrowDown', {}, area)
    expect(hooks('prompt-option')[0].getAttribute('aria-selected')).toBe('true')
    press('ArrowUp', {}, area)
    press('Enter', {}, area)
    await until(() => area.value === 'Translate into French:', 'the prompt inserted')
    expect(backend.called('send_message')).toHaveLength(0)
    expect(hook('prompt-picker')).toBeNull()
  })

  it('replaces only the /query line, and Escape closes it so Enter sends', async () => {
    const area = await composer()
    typeAt(area, 'Please look:\n/code')
    expect(hooks('prompt-option')).toHaveLength(1)
    press('Enter', {}, area)
    await until(() => area.value === 'Please look:\nReview this code for bugs:')

    typeAt(area, '/nothing like it')
    expect(need('prompt-picker').textContent).toContain('No saved prompt matches')
    typeAt(area, '/cod')
    press('Escape', {}, area)
    expect(hook('prompt-picker')).toBeNull()
    press('Enter', {}, area)
    expect(backend.called('send_message')[0].args.text).toBe('/cod')
  })

  it('is edited in Settings → Prompts', async () => {
    await start()
    click(await until(() => hook('settings')))
    click(need('settings-tab-prompts'))
    await until(() => hooks('prompt-item').length === 2)
    click(need('prompt-add'))
    type(need('prompt-name'), 'Summary')
    type(need('prompt-text'), 'Summarize in three lines:')
    click(need('prompt-save'))
    await until(() => hooks('prompt-item').length === 3, 'the new prompt listed')
    expect(backend.called('create_prompt')[0].args).toEqual({ name: 'Summary', text: 'Summarize in three lines:' })
  })
})

describe('search filters', () => {
  it('narrow the search by project, author and dates, and show how many are set', async () => {
    await start()
    click(await until(() => hook('search-filters-toggle')))
    const projectSelect = need('search-filter-project') as HTMLSelectElement
    await until(() => projectSelect.options.length === 3, 'the projects offered')
    projectSelect.value = 'p1'
    projectSelect.dispatchEvent(new Event('change', { bubbles: true }))
    const author = need('search-filter-author') as HTMLSelectElement
    author.value = 'user'
    author.dispatchEvent(new Event('change', { bubbles: true }))
    const from = need('search-filter-from') as HTMLInputElement
    from.value = '2026-03-01'
    from.dispatchEvent(new Event('change', { bubbles: true }))
    flushSync()
    expect(need('search-filters-toggle').getAttribute('aria-label')).toBe('Search filters (3 set)')

    type(need('search-input'), 'compost')
    await until(() => backend.called('search_conversations').length === 1, 'the search')
    expect(backend.called('search_conversations')[0].args).toEqual({
      query: 'compost',
      limit: 50,
      filter: { projectId: 'p1', role: 'user', since: new Date(2026, 2, 1).getTime() },
    })

    const to = need('search-filter-to') as HTMLInputElement
    to.value = '2026-02-01'
    to.dispatchEvent(new Event('change', { bubbles: true }))
    await until(() => hook('search-results') ?? document.querySelector('.results [role="alert"]'), 'the range refused')
    expect(document.querySelector('.results [role="alert"]')?.textContent).toContain('before the “from” date')
    expect(backend.called('search_conversations')).toHaveLength(1)

    click(need('search-filters-clear'))
    await until(() => backend.called('search_conversations').length === 2)
    expect(backend.called('search_conversations')[1].args).toEqual({ query: 'compost', limit: 50 })
  })
})
