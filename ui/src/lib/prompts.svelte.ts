// The saved-prompt library: edited in Settings → Prompts, offered by the composer's `/`
// picker. Names are unique (ignoring case); the engine refuses a taken one and says so.

import * as ipc from './ipc'
import type { PromptDto } from './types'

export class PromptsStore {
  items = $state.raw<PromptDto[]>([])
  loaded = $state(false)
  error = $state<string | null>(null)
  private generation = 0

  async load(): Promise<void> {
    // Only the newest answer is kept (a reset or a later load bumps this).
    const generation = ++this.generation
    try {
      const items = await ipc.listPrompts()
      if (generation !== this.generation) return
      this.items = items
      this.loaded = true
      this.error = null
    } catch (raw) {
      if (generation === this.generation) this.error = ipc.toHearthError(raw).message
    }
  }

  async create(name: string, text: string): Promise<PromptDto> {
    const prompt = await ipc.createPrompt(name.trim(), text)
    await this.load()
    return prompt
  }

  async update(id: string, name: string, text: string): Promise<PromptDto> {
    const prompt = await ipc.updatePrompt(id, name.trim(), text)
    await this.load()
    return prompt
  }

  async remove(id: string): Promise<void> {
    await ipc.deletePrompt(id)
    this.items = this.items.filter((p) => p.id !== id)
  }

  reset(): void {
    this.generation++
    this.items = []
    this.loaded = false
    this.error = null
  }
}
