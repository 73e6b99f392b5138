// Typed calls to the Rust side. Every command goes through `call`, which turns whatever
// the IPC layer rejects with into a `HearthError` and reports a locked vault once, so any
// screen can send the user to the unlock screen.

import { Channel, invoke } from '@tauri-apps/api/core'
import type {
  AttachedFilesDto,
  ChatEvent,
  CommandError,
  ConversationSummaryDto,
  ConversationViewDto,
  EraseResultDto,
  ErrorKind,
  ExportDoneDto,
  ExportFormatDto,
  ImportDoneDto,
  InventoryDto,
  ModelDto,
  ModelSettingsDto,
  PassphraseChangeDto,
  PendingFileDto,
  PickedFileDto,
  ProjectChangeInput,
  ProjectDto,
  ProjectFileDto,
  ProjectFilesAddedDto,
  ProjectSummaryDto,
  PromptDto,
  ProtectionDto,
  Protection,
  ProviderChange,
  ProviderDto,
  ReplyStartedDto,
  RotationProgressDto,
  SearchFilterDto,
  SearchHitDto,
  SettingsDto,
  TemporaryStartedDto,
  TemporaryTurnDto,
  ToolDecisionDto,
  ToolGrantDto,
  ToolInfoDto,
  ToolServerDto,
  ToolServerInput,
  TransferProgressDto,
  VaultStatusDto,
} from './types'

const ERROR_KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  'WrongPassphrase', 'KeychainUnavailable', 'PassphraseRequired', 'Locked', 'NotFound', 'Invalid',
  'ProviderAuth', 'RateLimited', 'Refused', 'ProviderError', 'ToolServer', 'Cancelled', 'Internal',
])

/** A failed command: the engine's kind to branch on, and a sentence to show. */
export class HearthError extends Error implements CommandError {
  readonly kind: ErrorKind

  constructor(kind: ErrorKind, message: string) {
    super(message)
    this.name = 'HearthError'
    this.kind = kind
  }
}

/** Whatever a command rejected with, as a `HearthError` (unknown shapes become `Internal`). */
export function toHearthError(raw: unknown): HearthError {
  if (raw instanceof HearthError) return raw
  if (typeof raw === 'object' && raw !== null) {
    const { kind, message } = raw as { kind?: unknown; message?: unknown }
    if (typeof kind === 'string' && ERROR_KINDS.has(kind) && typeof message === 'string') {
      return new HearthError(kind as ErrorKind, message)
    }
    if (raw instanceof Error) return new HearthError('Internal', raw.message)
  }
  if (typeof raw === 'string' && raw !== '') return new HearthError('Internal', raw)
  return new HearthError('Internal', 'Something went wrong.')
}

/** Errors a provider caused, which a retry may fix. */
export function isProviderFailure(kind: ErrorKind): boolean {
  return kind === 'ProviderAuth' || kind === 'RateLimited' || kind === 'Refused' || kind === 'ProviderError'
}

/** Whether a reply's error says the model refused (live: the command kind; stored: the engine's kind). */
export function isRefusal(error: { kind: string } | null | undefined): boolean {
  return error?.kind === 'Refused' || error?.kind === 'refused'
}

let lockedListener: (() => void) | null = null

/** Registers what happens when any command finds the vault locked (one listener). */
export function onLocked(listener: (() => void) | null): void {
  lockedListener = listener
}

/** `args` without its undefined fields (optional arguments are left out, not sent empty). */
function defined<T extends object>(args: T): Partial<T> {
  return Object.fromEntries(Object.entries(args).filter(([, value]) => value !== undefined)) as Partial<T>
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args)
  } catch (raw) {
    const error = toHearthError(raw)
    if (error.kind === 'Locked') lockedListener?.()
    throw error
  }
}

// The app

/** Tells the shell the first screen can take input (it logs the startup time). */
export const uiReady = () => call<null>('ui_ready')

// Vault

export const vaultStatus = () => call<VaultStatusDto>('vault_status')

export const vaultCreate = (protection: Protection, passphrase?: string) =>
  call<null>('vault_create', passphrase === undefined ? { protection } : { protection, passphrase })

export const vaultUnlock = (passphrase?: string) =>
  call<null>('vault_unlock', passphrase === undefined ? {} : { passphrase })

export const vaultLock = () => call<null>('vault_lock')

/** How the open vault is protected, and whether the keychain answers. */
export const getProtection = () => call<ProtectionDto>('get_protection')

/** Changes what unlocks the vault; `current` is its passphrase now, when it has one. */
export const setProtection = (args: { current?: string; keychain: boolean; passphrase: PassphraseChangeDto }) =>
  call<ProtectionDto>('set_protection', defined(args))

/** Re-encrypts the vault under a new data key, reporting each step on `onProgress`. */
export const rotateDataKey = (passphrase: string | undefined, onProgress: (step: RotationProgressDto) => void) =>
  call<null>('rotate_data_key', { ...defined({ passphrase }), onProgress: new Channel(onProgress) })

export const getSettings = () => call<SettingsDto>('get_settings')

export const setSettings = (settings: SettingsDto) => call<SettingsDto>('set_settings', { settings })

// Conversations

export const listArchivedConversations = (limit: number, offset: number) =>
  call<ConversationSummaryDto[]>('list_archived_conversations', { limit, offset })

export const archiveConversation = (id: string, archived: boolean) =>
  call<null>('archive_conversation', { id, archived })

export const openConversation = (id: string) => call<ConversationViewDto>('open_conversation', { id })

/** Searches messages and titles; `filter` narrows it (absent: everything, archived too). */
export const searchConversations = (query: string, limit: number, filter?: SearchFilterDto) =>
  call<SearchHitDto[]>('search_conversations', defined({ query, limit, filter }))

export const renameConversation = (id: string, title: string) =>
  call<null>('rename_conversation', { id, title })

export const pinConversation = (id: string, pinned: boolean) =>
  call<null>('pin_conversation', { id, pinned })

export const deleteConversation = (id: string) => call<null>('delete_conversation', { id })

export const selectBranch = (messageId: string) =>
  call<ConversationViewDto>('select_branch', { messageId })

export const setSystemPrompt = (id: string, prompt: string | null) =>
  call<null>('set_system_prompt', { id, prompt })

export const setConversationModel = (id: string, providerId: string, model: string) =>
  call<null>('set_conversation_model', { id, providerId, model })

/** The conversations in no project (not archived): the sidebar's main list. */
export const listUnfiledConversations = (limit: number, offset: number) =>
  call<ConversationSummaryDto[]>('list_unfiled_conversations', { limit, offset })

/** One project's conversations (not archived), pinned first, then newest. */
export const listProjectConversations = (projectId: string, limit: number, offset: number) =>
  call<ConversationSummaryDto[]>('list_project_conversations', { projectId, limit, offset })

/** Moves a conversation into a project, or out of any with null. */
export const moveConversation = (id: string, projectId: string | null) =>
  call<null>('move_conversation', projectId === null ? { id } : { id, projectId })

/** A conversation's own model settings (its project's apply to what is unset). */
export const getConversationSettings = (id: string) => call<ModelSettingsDto>('get_conversation_settings', { id })

export const setConversationSettings = (id: string, settings: ModelSettingsDto) =>
  call<null>('set_conversation_settings', { id, settings })

// Projects

export const listProjects = () => call<ProjectSummaryDto[]>('list_projects')

export const createProject = (name: string, instructions: string) =>
  call<ProjectDto>('create_project', { name, instructions })

export const getProject = (id: string) => call<ProjectDto>('get_project', { id })

export const changeProject = (id: string, change: ProjectChangeInput) =>
  call<ProjectDto>('change_project', { id, change })

/** Deletes a project; its conversations go with it or move out. How many were deleted. */
export const deleteProject = (id: string, deleteConversations: boolean) =>
  call<number>('delete_project', { id, deleteConversations })

/** Shows the native open dialog and adds the files Hearth can send to the project. */
export const pickProjectFiles = (projectId: string) => call<ProjectFilesAddedDto>('pick_project_files', { projectId })

export const listProjectFiles = (projectId: string) => call<ProjectFileDto[]>('list_project_files', { projectId })

export const removeProjectFile = (id: string) => call<null>('remove_project_file', { id })

// Saved prompts

export const listPrompts = () => call<PromptDto[]>('list_prompts')

export const createPrompt = (name: string, text: string) => call<PromptDto>('create_prompt', { name, text })

export const updatePrompt = (id: string, name: string, text: string) =>
  call<PromptDto>('update_prompt', { id, name, text })

export const deletePrompt = (id: string) => call<null>('delete_prompt', { id })

// Replies: each streams over its own channel and ends with one `done` or `error`.

export interface SendArgs {
  requestId: string
  conversationId?: string
  providerId?: string
  model?: string
  text: string
  /** Tokens of the files waiting to go with it. */
  attachments?: string[]
  /** The tool servers the conversation offers from now on (a new chat's choice). */
  tools?: string[]
  /** The project a new conversation starts in. */
  projectId?: string
  /** The conversation's own model settings from now on (a new chat's choice). */
  settings?: ModelSettingsDto
}

export const sendMessage = (args: SendArgs, onEvent: (event: ChatEvent) => void) =>
  call<ReplyStartedDto>('send_message', { ...defined(args), onEvent: new Channel<ChatEvent>(onEvent) })

export const regenerateReply = (
  args: { requestId: string; messageId: string },
  onEvent: (event: ChatEvent) => void,
) => call<ReplyStartedDto>('regenerate_reply', { ...args, onEvent: new Channel<ChatEvent>(onEvent) })

export const editMessage = (
  args: { requestId: string; messageId: string; text: string },
  onEvent: (event: ChatEvent) => void,
) => call<ReplyStartedDto>('edit_message', { ...args, onEvent: new Channel<ChatEvent>(onEvent) })

export interface TemporaryArgs {
  requestId: string
  /** The whole chat so far, oldest first, ending with the user's new turn. */
  turns: TemporaryTurnDto[]
  systemPrompt?: string
  providerId?: string
  model?: string
}

/** A temporary chat's reply: the engine saves nothing; `done`/`error` name `requestId`. */
export const sendTemporary = (args: TemporaryArgs, onEvent: (event: ChatEvent) => void) =>
  call<TemporaryStartedDto>('send_temporary', { ...defined(args), onEvent: new Channel<ChatEvent>(onEvent) })

/** Stops a reply by request id (or assistant message id); false when none was running. */
export const cancelReply = (id: string) => call<boolean | null>('cancel_reply', { id })

/**
 * Answers the tool call `callId` that the reply `id` (request or assistant message id)
 * waits on; resolves once the reply has taken the answer.
 */
export const decideToolCall = (id: string, callId: string, decision: ToolDecisionDto) =>
  call<null>('decide_tool_call', { id, callId, decision })

// Attachments: files wait on the Rust side by token; the webview never names a path.

/** Shows the native open dialog (several files) and holds each file Hearth can attach. */
export const pickAttachments = () => call<AttachedFilesDto>('pick_attachments')

/** Hands pasted bytes to the Rust side, which checks what they are. */
export const pasteAttachment = async (bytes: Uint8Array, name: string): Promise<PendingFileDto> => {
  try {
    return await invoke<PendingFileDto>('paste_attachment', bytes, {
      headers: { 'x-hearth-file-name': encodeURIComponent(name.slice(0, 255)) },
    })
  } catch (raw) {
    throw toHearthError(raw)
  }
}

/** Files dropped on the window arrive here, read and checked by the Rust side. */
export const watchFileDrops = (onDrop: (dropped: AttachedFilesDto) => void) =>
  call<null>('watch_file_drops', { onDrop: new Channel<AttachedFilesDto>(onDrop) })

/** Lets the Rust side forget files no longer waiting to be sent. */
export const discardAttachments = (tokens: string[]) => call<null>('discard_attachments', { tokens })

function asBytes(raw: unknown): Uint8Array {
  if (raw instanceof Uint8Array) return raw
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw)
  if (Array.isArray(raw)) return Uint8Array.from(raw as number[])
  throw new HearthError('Internal', 'the image did not arrive as bytes')
}

/** The bytes of an image waiting to be sent (or held by a temporary chat). */
export const pendingImage = async (token: string) => asBytes(await call<unknown>('pending_image', { token }))

/** The bytes of a stored image attachment. */
export const attachmentImage = async (id: string) => asBytes(await call<unknown>('attachment_image', { id }))

/** Saves a stored attachment through the native save dialog; where it went, or null if cancelled. */
export const saveAttachment = (id: string) => call<string | null>('save_attachment', { id })

// Providers

export const listProviders = () => call<ProviderDto[]>('list_providers')

export const setProvider = (change: ProviderChange) => call<ProviderDto>('set_provider', { change })

export const setApiKey = (providerId: string, key: string) =>
  call<string>('set_api_key', { providerId, key })

export const removeApiKey = (providerId: string) => call<boolean>('remove_api_key', { providerId })

export const listModels = (providerId: string) => call<ModelDto[]>('list_models', { providerId })

// Tools (MCP servers). Environment and header values go in and never come back.

export const listToolServers = () => call<ToolServerDto[]>('list_tool_servers')

export const addToolServer = (server: ToolServerInput) => call<ToolServerDto>('add_tool_server', { server })

export const removeToolServer = (name: string) => call<boolean>('remove_tool_server', { name })

export const setToolServerEnabled = (name: string, enabled: boolean) =>
  call<ToolServerDto>('set_tool_server_enabled', { name, enabled })

/** The tools a server offers (this starts the server). */
export const listServerTools = (name: string) => call<ToolInfoDto[]>('list_server_tools', { name })

/** Sets the servers a conversation offers its model; returns them as saved. */
export const setConversationToolServers = (id: string, servers: string[]) =>
  call<string[]>('set_conversation_tool_servers', { id, servers })

export const listToolGrants = () => call<ToolGrantDto[]>('list_tool_grants')

/** Takes back a grant: without `conversationId`, the "always" one. */
export const revokeToolGrant = (server: string, tool: string, conversationId: string | null) =>
  call<boolean>('revoke_tool_grant', { ...defined({ server, tool, conversationId: conversationId ?? undefined }) })

// Your data

/** What is stored where: files, keychain entry names, counts, versions. Never a secret. */
export const dataInventory = () => call<InventoryDto>('data_inventory')

/**
 * Writes an export through the native save dialog the Rust side shows; null when the user
 * cancelled it. Without `conversationId`, the whole vault.
 */
export const exportData = (
  args: { format: ExportFormatDto; conversationId?: string; archivePassphrase?: string },
  onProgress: (progress: TransferProgressDto) => void,
) => call<ExportDoneDto | null>('export_data', { ...defined(args), onProgress: new Channel(onProgress) })

/** Shows the native open dialog and recognises the file; null when the user cancelled. */
export const pickImportFile = () => call<PickedFileDto | null>('pick_import_file')

/** Imports the picked file, all or nothing. */
export const importPicked = (
  args: { token: string; archivePassphrase?: string },
  onProgress: (progress: TransferProgressDto) => void,
) => call<ImportDoneDto>('import_picked', { ...defined(args), onProgress: new Channel(onProgress) })

/** Destroys the vault, its key and the provider keys; `confirmation` must be "erase". */
export const eraseEverything = (confirmation: string) =>
  call<EraseResultDto>('erase_everything', { confirmation })

// The outside world

export const openExternal = (url: string) => call<null>('open_external', { url })
