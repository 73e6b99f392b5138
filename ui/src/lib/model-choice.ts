// Which provider and model a conversation uses, as the model picker shows it.

import type { ConversationDto, ProviderDto } from './types'

export interface ModelChoice {
  providerId: string
  model: string
}

/** Providers a chat can use now: those on this machine, and those with a key. */
export function usableProviders(providers: readonly ProviderDto[]): ProviderDto[] {
  return providers.filter((p) => p.local || p.keyHint !== null)
}

/**
 * The choice a conversation opens with: its own provider and model when it has them,
 * else the default provider (if usable, else the first usable one) with its default model.
 * Empty when no provider can be used.
 */
export function initialChoice(
  conversation: Pick<ConversationDto, 'providerId' | 'model'> | null,
  providers: readonly ProviderDto[],
): ModelChoice {
  if (conversation?.providerId) {
    const provider = providers.find((p) => p.id === conversation.providerId)
    return {
      providerId: conversation.providerId,
      model: conversation.model ?? provider?.defaultModel ?? '',
    }
  }
  const usable = usableProviders(providers)
  const provider = usable.find((p) => p.isDefault) ?? usable[0]
  return provider === undefined
    ? { providerId: '', model: '' }
    : { providerId: provider.id, model: provider.defaultModel ?? '' }
}

/** The choice after picking another provider: its default model replaces the old model. */
export function withProvider(providers: readonly ProviderDto[], providerId: string): ModelChoice {
  const provider = providers.find((p) => p.id === providerId)
  return { providerId, model: provider?.defaultModel ?? '' }
}
