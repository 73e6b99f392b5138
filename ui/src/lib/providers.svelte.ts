// Providers for the model picker and settings, and each provider's model list, fetched
// only when asked for (it is a network request to the provider).

import * as ipc from './ipc'
import { usableProviders } from './model-choice'
import type { ModelDto, ProviderDto } from './types'

/** What the provider form saves; fields left undefined are not sent. */
export interface ProviderEdit {
  baseUrl?: string
  defaultModel?: string
  makeDefault?: boolean
  /** A new API key; empty or undefined keeps the stored one. */
  key?: string
}

export class ProvidersStore {
  list = $state.raw<ProviderDto[]>([])
  loaded = $state(false)
  error = $state<string | null>(null)
  /** Model lists fetched so far, by provider id. */
  models = $state.raw<Record<string, ModelDto[]>>({})
  private inflight = new Map<string, Promise<ModelDto[]>>()

  get usable(): ProviderDto[] {
    return usableProviders(this.list)
  }

  find(id: string): ProviderDto | undefined {
    return this.list.find((p) => p.id === id)
  }

  async load(): Promise<void> {
    try {
      this.list = await ipc.listProviders()
      this.loaded = true
      this.error = null
    } catch (raw) {
      this.error = ipc.toHearthError(raw).message
    }
  }

  /** The provider's models, fetched once (again with `force`, as "Test connection" does). */
  async loadModels(providerId: string, { force = false } = {}): Promise<ModelDto[]> {
    if (!force && this.models[providerId] !== undefined) return this.models[providerId]
    const running = this.inflight.get(providerId)
    if (running !== undefined && !force) return running
    const request = ipc.listModels(providerId).then(
      (models) => {
        this.models = { ...this.models, [providerId]: models }
        return models
      },
    ).finally(() => {
      if (this.inflight.get(providerId) === request) this.inflight.delete(providerId)
    })
    this.inflight.set(providerId, request)
    return request
  }

  /**
   * Saves a provider's settings, then its key if one was typed. Returns the provider as
   * the engine now has it.
   */
  async save(id: string, edit: ProviderEdit): Promise<ProviderDto> {
    const change: Parameters<typeof ipc.setProvider>[0] = { id }
    if (edit.baseUrl !== undefined) change.baseUrl = edit.baseUrl.trim()
    if (edit.defaultModel !== undefined) change.defaultModel = edit.defaultModel.trim()
    if (edit.makeDefault) change.makeDefault = true
    let saved = await ipc.setProvider(change)
    const key = edit.key?.trim() ?? ''
    if (key !== '') {
      const hint = await ipc.setApiKey(id, key)
      saved = { ...saved, keyHint: hint }
    }
    this.replace(saved, edit.makeDefault === true)
    // A new URL or key can change what the provider offers.
    this.forgetModels(id)
    return saved
  }

  /** Adds a custom provider speaking `kind` at `baseUrl`. */
  async add(id: string, kind: string, baseUrl: string): Promise<ProviderDto> {
    const saved = await ipc.setProvider({ id: id.trim(), kind, baseUrl: baseUrl.trim() })
    await this.load()
    return saved
  }

  async removeKey(id: string): Promise<void> {
    await ipc.removeApiKey(id)
    const provider = this.find(id)
    if (provider !== undefined) this.replace({ ...provider, keyHint: null }, false)
    this.forgetModels(id)
  }

  reset(): void {
    this.list = []
    this.loaded = false
    this.error = null
    this.models = {}
    this.inflight.clear()
  }

  private forgetModels(id: string): void {
    const { [id]: _dropped, ...rest } = this.models
    this.models = rest
  }

  private replace(provider: ProviderDto, becameDefault: boolean): void {
    const known = this.list.some((p) => p.id === provider.id)
    const list = known ? this.list.map((p) => (p.id === provider.id ? provider : p)) : [...this.list, provider]
    this.list = becameDefault
      ? list.map((p) => ({ ...p, isDefault: p.id === provider.id }))
      : list
  }
}
