// What the message list, the composer and the model picker need from a chat. The saved
// chat (ChatStore) and the temporary chat (TemporaryChatStore) both provide it, so the
// same components show either; the view that holds them puts one in context.

import type { ShownAttachment } from './attachments.svelte'
import type { ModelChoice } from './model-choice'
import type { AttachedFilesDto, MessageDto, PendingFileDto, ToolDecisionDto } from './types'

export interface ChatSurface {
  /** Identifies what is shown; a change scrolls to the end and focuses the composer. */
  readonly currentId: string | null
  /** A reply is being written here. */
  readonly streaming: boolean
  /** The user asked to stop it and the engine has not ended it yet. */
  readonly stopping: boolean
  /** The composer's text. */
  draftText: string
  /** The reply a regenerate button belongs on. */
  readonly regenerableId: string | null
  /** A message to scroll to and flash once it is on screen. */
  focusMessageId: string | null
  /** Messages can be edited and have alternatives (‹ 2/3 ›); a retry is possible on any reply. */
  readonly branching: boolean
  /** The provider and model the next reply uses. */
  choice: ModelChoice
  /** Files waiting to go with the next message (held by the Rust side). */
  readonly pendingFiles: readonly PendingFileDto[]
  /** Why the last files could not be attached, one line each; empty when all were. */
  attachRefused: string[]
  /** Adds files picked, dropped or pasted into the composer. */
  addFiles(result: AttachedFilesDto): void
  /** Takes a file out of the composer. */
  removeFile(token: string): void
  /** The files a shown message carries. */
  attachmentsOf(message: MessageDto): ShownAttachment[]
  send(text: string): Promise<void>
  stop(): Promise<void>
  regenerate(messageId: string): Promise<void>
  edit(messageId: string, text: string): Promise<void>
  selectBranch(messageId: string): Promise<void>
  setChoice(choice: ModelChoice): Promise<void>
  /** Answers a tool call the reply `messageId` waits on; whether the reply took it. */
  decideToolCall(messageId: string, callId: string, decision: ToolDecisionDto): Promise<boolean>
}
