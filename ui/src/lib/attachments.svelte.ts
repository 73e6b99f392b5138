// Files attached to messages. The Rust side holds the files waiting to be sent (picked,
// dropped or pasted) and hands the UI a token with a name, a size and a media type; the UI
// never sees a path. Stored attachments are named by id. Images are shown from bytes the
// Rust side hands over, through `blob:` URLs; nothing else is ever put in an <img>.

import * as ipc from './ipc'
import type { AttachedFilesDto, AttachmentDto, PendingFileDto } from './types'

/** The largest file Hearth attaches (the engine's limit); larger pastes are refused here. */
export const MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024

/** The most files a message takes (the engine's limit). */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10

/** The only media types ever shown as an image. An SVG is text to Hearth, never one of these. */
const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

export function isShownImage(mediaType: string): boolean {
  return IMAGE_TYPES.has(mediaType)
}

/** An attachment as a message shows it: stored (by id) or held for a temporary chat (by token). */
export interface ShownAttachment {
  key: string
  name: string
  mediaType: string
  kind: string
  size: number
  /** Stored attachments can be saved back to disk. */
  id: string | null
  token: string | null
}

export function storedAttachment(a: AttachmentDto): ShownAttachment {
  return { key: a.id, name: a.name, mediaType: a.mediaType, kind: a.kind, size: a.size, id: a.id, token: null }
}

export function heldAttachment(p: PendingFileDto): ShownAttachment {
  return { key: p.token, name: p.name, mediaType: p.mediaType, kind: p.kind, size: p.size, id: null, token: p.token }
}

/** The bytes of an image attachment, from wherever it is held. */
export async function imageBytes(a: ShownAttachment): Promise<Uint8Array> {
  if (!isShownImage(a.mediaType)) throw new ipc.HearthError('Invalid', 'only images are shown')
  if (a.id !== null) return ipc.attachmentImage(a.id)
  if (a.token !== null) return ipc.pendingImage(a.token)
  throw new ipc.HearthError('Invalid', 'this file cannot be shown')
}

/** A `blob:` URL for image bytes of an allowed type; the caller revokes it. */
export function imageUrl(bytes: Uint8Array, mediaType: string): string {
  if (!isShownImage(mediaType)) throw new ipc.HearthError('Invalid', 'only images are shown')
  return URL.createObjectURL(new Blob([bytes as BlobPart], { type: mediaType }))
}

/** The files a paste carries (images copied from another app, files copied in a file manager). */
export function pastedFiles(data: DataTransfer | null): File[] {
  if (data === null) return []
  const files = Array.from(data.files ?? [])
  if (files.length > 0) return files
  return Array.from(data.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => item.getAsFile())
    .filter((file): file is File => file !== null)
}

/** Hands pasted files to the Rust side, one by one; too-large ones are refused before sending. */
export async function pasteFiles(files: readonly File[]): Promise<AttachedFilesDto> {
  const result: AttachedFilesDto = { files: [], refused: [] }
  for (const file of files) {
    const name = file.name || 'pasted'
    if (file.size > MAX_ATTACHMENT_BYTES) {
      result.refused.push(`cannot attach ${name}: Hearth attaches files of up to 32 MiB; nothing was added`)
      continue
    }
    try {
      const bytes = new Uint8Array(await file.arrayBuffer())
      result.files.push(await ipc.pasteAttachment(bytes, name))
    } catch (raw) {
      result.refused.push(ipc.toHearthError(raw).message)
    }
  }
  return result
}

/** Opens the native file dialog (shown by the Rust side) and holds what can be attached. */
export async function pickFiles(): Promise<AttachedFilesDto> {
  try {
    return await ipc.pickAttachments()
  } catch (raw) {
    return { files: [], refused: [ipc.toHearthError(raw).message] }
  }
}

/**
 * The files waiting in each composer, by draft key, and the last refusal to show. The Rust
 * side holds the files; this keeps their tokens in order.
 */
export class PendingAttachments {
  byKey = $state<Record<string, PendingFileDto[]>>({})
  /** Why the last files could not be added (one line per file), until dismissed. */
  refused = $state<string[]>([])

  list(key: string): PendingFileDto[] {
    return this.byKey[key] ?? []
  }

  /** Adds what was picked, dropped or pasted; files past a message's limit are let go. */
  add(key: string, result: AttachedFilesDto): void {
    const current = this.list(key)
    const room = Math.max(0, MAX_ATTACHMENTS_PER_MESSAGE - current.length)
    const taken = result.files.slice(0, room)
    const extra = result.files.slice(room)
    const refused = [...result.refused]
    if (extra.length > 0) {
      refused.push(`a message takes at most ${MAX_ATTACHMENTS_PER_MESSAGE} files; ${extra.length} left out`)
      void ipc.discardAttachments(extra.map((f) => f.token)).catch(() => {})
    }
    this.byKey[key] = [...current, ...taken]
    this.refused = refused
  }

  /** Removes one file from a composer and lets the Rust side forget it. */
  remove(key: string, token: string): void {
    this.byKey[key] = this.list(key).filter((f) => f.token !== token)
    void ipc.discardAttachments([token]).catch(() => {})
  }

  /** Takes a composer's files for sending (they are given back if nothing was saved). */
  take(key: string): PendingFileDto[] {
    const files = this.list(key)
    delete this.byKey[key]
    return files
  }

  /** Gives files back to a composer (a send that saved nothing). */
  restore(key: string, files: PendingFileDto[]): void {
    if (files.length === 0) return
    this.byKey[key] = [...files, ...this.list(key)]
  }

  /** Forgets the files of `key` (a deleted conversation). */
  drop(key: string): void {
    const files = this.take(key)
    if (files.length > 0) void ipc.discardAttachments(files.map((f) => f.token)).catch(() => {})
  }

  /** Forgets everything here (the Rust side forgets its files itself when the vault locks). */
  reset(): void {
    this.byKey = {}
    this.refused = []
  }
}
