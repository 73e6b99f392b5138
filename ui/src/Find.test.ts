// Find in the open conversation (Ctrl/Cmd+F), mounted whole against a fake Rust side.
import { flushSync, mount, unmount } from 'svelte'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import App from './App.svelte'
import { Hearth } from './lib/app.svelte'
import { fakeBackend, resetBackend, settle } from './test/backend'
import { click, hook, hooks, need, press, type, until } from './test/dom'
import { conversation, message, provider, summary } from './test/fixtures'

let app: ReturnType<typeof mount> | null = null

beforeEach(() => {
  document.body.innerHTML = ''
  fakeBackend({
    vault_status: () => ({
      state: 'unlocked',
      mode: 'passphrase',
      dataDir: '/home/me/.local/share/hearth',
      conversations: 1,
      messages: 2,
      keychainAvailable: true,
    }),
    get_settings: () => ({ autoLockMinutes: null }),
    list_providers: () => [provider('openai', { keyHint: '…abcd', isDefault: true, defaultModel: 'gpt-test' })],
    list_unfiled_conversations: ({ offset }) => (offset === 0 ? [summary('c1', 10, false, 'Zebras')] : []),
    open_conversation: () => ({
      conversation: conversation('c1', { title: 'Zebras' }),
      toolServers: [],
      settings: { temperature: null, maxTokens: null, reasoning: null },
      messages: [
        message('u1', 'user', 'Tell me about zebras and more zebras'),
        message('a1', 'assistant', 'A **zebra** has stripes. Zebras live in herds.'),
      ],
    }),
  })
})

afterEach(() => {
  if (app !== null) unmount(app)
  app = null
  resetBackend()
})

async function openZebras(): Promise<void> {
  app = mount(App, { target: document.body, props: { hearth: new Hearth() } })
  flushSync()
  await settle()
  click(await until(() => hooks('conversation-item')[0]?.querySelector<HTMLElement>('.open')))
  await until(() => hooks('message').length === 2)
}

describe('find in the conversation', () => {
  it('opens with Ctrl+F, counts matches, steps with Enter and Shift+Enter, closes with Escape', async () => {
    await openZebras()
    press('f', { ctrlKey: true })
    const input = (await until(() => hook('find-input'))) as HTMLInputElement
    expect(document.activeElement).toBe(input)
    type(input, 'zebra')
    // "zebras" twice in the question; "zebra" (bold) and "Zebras" in the reply.
    await until(() => need('find-count').textContent === '1 of 4', 'the matches counted')
    press('Enter', {}, input)
    expect(need('find-count').textContent).toBe('2 of 4')
    press('Enter', { shiftKey: true }, input)
    press('Enter', { shiftKey: true }, input)
    expect(need('find-count').textContent).toBe('4 of 4')
    type(input, 'giraffe')
    expect(need('find-count').textContent).toBe('No matches')
    // The messages' markup is left as it was.
    expect(hooks('message')[1].querySelector('strong')?.outerHTML).toBe('<strong>zebra</strong>')
    press('Escape', {}, input)
    expect(hook('find-bar')).toBeNull()
  })

  it('finds again as the conversation changes, and closes when another one opens', async () => {
    await openZebras()
    press('f', { ctrlKey: true })
    type(await until(() => hook('find-input')), 'herds')
    await until(() => need('find-count').textContent === '1 of 1')
    click(need('new-chat'))
    await until(() => hook('find-bar') === null, 'the bar closed with the conversation')
  })
})
