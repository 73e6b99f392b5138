// How components reach the app's state: App puts one `Hearth` in context.

import { createContext } from 'svelte'
import type { Hearth } from './app.svelte'

export const [getHearth, setHearth] = createContext<Hearth>()
