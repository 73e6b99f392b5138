// Small builders for IPC values in tests.
import type {
  ConversationDto,
  ConversationSummaryDto,
  MessageDto,
  ProviderDto,
} from '../lib/types'

export function summary(id: string, updatedAt: number, pinned = false, title = `Chat ${id}`): ConversationSummaryDto {
  return { id, title, updatedAt, messageCount: 2, pinned, archived: false, projectId: null }
}

export function conversation(id: string, changes: Partial<ConversationDto> = {}): ConversationDto {
  return {
    id,
    title: `Chat ${id}`,
    createdAt: 1,
    updatedAt: 2,
    providerId: 'openai',
    model: 'gpt-test',
    systemPrompt: null,
    pinned: false,
    archived: false,
    headMessageId: null,
    projectId: null,
    ...changes,
  }
}

export function message(
  id: string,
  role: 'user' | 'assistant',
  content: string,
  changes: Partial<MessageDto> = {},
): MessageDto {
  return {
    id,
    conversationId: 'c1',
    parentId: null,
    role,
    content,
    reasoning: null,
    status: 'complete',
    error: null,
    providerId: role === 'assistant' ? 'openai' : null,
    model: role === 'assistant' ? 'gpt-test' : null,
    tokensIn: null,
    tokensOut: null,
    createdAt: 1,
    finishedAt: 1,
    siblings: [id],
    attachments: [],
    toolCalls: [],
    ...changes,
  }
}

export function provider(id: string, changes: Partial<ProviderDto> = {}): ProviderDto {
  return {
    id,
    name: id[0].toUpperCase() + id.slice(1),
    kind: 'openai-compatible',
    baseUrl: `https://${id}.example/v1`,
    defaultModel: `${id}-model`,
    builtin: true,
    local: false,
    isDefault: false,
    keyHint: null,
    ...changes,
  }
}
