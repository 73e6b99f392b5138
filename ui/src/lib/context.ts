// How components reach the app's state: App puts one `Hearth` in context; a chat view
// puts the chat its messages and composer belong to.

import { createContext } from 'svelte'
import type { Hearth } from './app.svelte'
import type { ChatSurface } from './chat-surface'

export const [getHearth, setHearth] = createContext<Hearth>()

export const [getChatSurface, setChatSurface] = createContext<ChatSurface>()
