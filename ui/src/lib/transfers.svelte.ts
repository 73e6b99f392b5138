// Export and import. The Rust side shows the native save and open dialogs itself, so the
// page never names a path; these stores only follow what it reports: progress while a
// transfer runs, then the result or the error.

import * as ipc from './ipc'
import type {
  ExportDoneDto,
  ExportFormatDto,
  ImportDoneDto,
  PickedFileDto,
  TransferProgressDto,
} from './types'

/** The formats `pick_import_file` recognises. */
export type ImportFormat = 'chatgpt' | 'claude' | 'hearth' | 'hearthArchive' | 'unknown'

const IMPORTABLE: ReadonlySet<string> = new Set<ImportFormat>(['chatgpt', 'claude', 'hearth', 'hearthArchive'])

/** The picked file's format; anything the UI does not know counts as unrecognised. */
export function importFormat(file: Pick<PickedFileDto, 'format'>): ImportFormat {
  return IMPORTABLE.has(file.format) ? (file.format as ImportFormat) : 'unknown'
}

export interface ExportRequest {
  format: ExportFormatDto
  /** One conversation; everything when absent. */
  conversationId?: string | null
  /** Required for the encrypted archive. */
  archivePassphrase?: string
}

/** The export running or last finished. One runs at a time. */
export class ExportStore {
  running = $state(false)
  /** Whose progress and result these are: a conversation's id, or null for everything. */
  scope = $state<string | null>(null)
  progress = $state<TransferProgressDto | null>(null)
  /** Where the last export went; null while none finished (or the dialog was cancelled). */
  result = $state<ExportDoneDto | null>(null)
  error = $state<string | null>(null)
  /** Bumped by reset, so an answer that arrives after a lock is dropped. */
  private generation = 0

  /** Exports; resolves to what was written, or null (cancelled, failed, or already running). */
  async run(request: ExportRequest): Promise<ExportDoneDto | null> {
    if (this.running) return null
    const generation = this.generation
    this.running = true
    this.scope = request.conversationId ?? null
    this.progress = null
    this.result = null
    this.error = null
    try {
      const done = await ipc.exportData(
        {
          format: request.format,
          conversationId: request.conversationId ?? undefined,
          archivePassphrase: request.format === 'archive' ? request.archivePassphrase : undefined,
        },
        (progress) => {
          if (generation === this.generation && this.running) this.progress = progress
        },
      )
      if (generation !== this.generation) return null
      this.result = done
      return done
    } catch (raw) {
      if (generation === this.generation) this.error = ipc.toHearthError(raw).message
      return null
    } finally {
      if (generation === this.generation) {
        this.running = false
        this.progress = null
      }
    }
  }

  /** Forgets the last result or error. */
  clear(): void {
    if (this.running) return
    this.result = null
    this.error = null
  }

  reset(): void {
    this.generation++
    this.running = false
    this.scope = null
    this.progress = null
    this.result = null
    this.error = null
  }
}

/** Picking a file, then importing it. */
export class ImportStore {
  /** The file picked and recognised, waiting for Import. */
  picked = $state<PickedFileDto | null>(null)
  /** The open dialog is showing. */
  picking = $state(false)
  running = $state(false)
  progress = $state<TransferProgressDto | null>(null)
  result = $state<ImportDoneDto | null>(null)
  error = $state<ipc.HearthError | null>(null)
  private generation = 0

  /** `imported` runs after a successful import (the sidebar reloads). */
  constructor(private readonly imported: (done: ImportDoneDto) => void | Promise<void> = () => {}) {}

  get busy(): boolean {
    return this.picking || this.running
  }

  /** Shows the open dialog; a cancelled dialog leaves everything as it was. */
  async pick(): Promise<void> {
    if (this.busy) return
    const generation = this.generation
    this.picking = true
    try {
      const file = await ipc.pickImportFile()
      if (generation !== this.generation || file === null) return
      this.picked = file
      this.result = null
      this.error = null
    } catch (raw) {
      if (generation === this.generation) this.error = ipc.toHearthError(raw)
    } finally {
      if (generation === this.generation) this.picking = false
    }
  }

  /** Imports the picked file. A failure adds nothing; the file stays picked to try again. */
  async run(archivePassphrase?: string): Promise<ImportDoneDto | null> {
    const file = this.picked
    if (file === null || importFormat(file) === 'unknown' || this.busy) return null
    const generation = this.generation
    this.running = true
    this.progress = null
    this.result = null
    this.error = null
    try {
      const done = await ipc.importPicked(
        {
          token: file.token,
          archivePassphrase: importFormat(file) === 'hearthArchive' ? archivePassphrase : undefined,
        },
        (progress) => {
          if (generation === this.generation && this.running) this.progress = progress
        },
      )
      if (generation !== this.generation) return null
      this.result = done
      this.picked = null
      await this.imported(done)
      return done
    } catch (raw) {
      if (generation === this.generation) this.error = ipc.toHearthError(raw)
      return null
    } finally {
      if (generation === this.generation) {
        this.running = false
        this.progress = null
      }
    }
  }

  /** Forgets the picked file and the last result or error, unless a pick or import is running. */
  clear(): void {
    if (this.busy) return
    this.picked = null
    this.result = null
    this.error = null
  }

  /** Puts the picked file back (Cancel). */
  cancel(): void {
    if (this.busy) return
    this.picked = null
    this.error = null
  }

  reset(): void {
    this.generation++
    this.picked = null
    this.picking = false
    this.running = false
    this.progress = null
    this.result = null
    this.error = null
  }
}

/** What the import screen calls each format the engine recognises. */
export function importFormatLabel(format: ImportFormat): string {
  switch (format) {
    case 'chatgpt':
      return 'ChatGPT export'
    case 'claude':
      return 'Claude export'
    case 'hearth':
      return 'Hearth export (JSON)'
    case 'hearthArchive':
      return 'Hearth encrypted archive'
    default:
      return 'Not a file Hearth can import'
  }
}

function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`
}

/** "12 conversations, 340 messages" (progress, and what an export wrote). */
export function transferCounts(progress: TransferProgressDto): string {
  return `${count(progress.conversations, 'conversation', 'conversations')}, ${count(progress.messages, 'message', 'messages')}`
}

/** "Saved to PATH: N conversations, M messages". */
export function exportSummary(done: ExportDoneDto): string {
  return `Saved to ${done.path}: ${transferCounts(done)}`
}

/** "Imported N conversations (M messages); K were already here." */
export function importSummary(done: ImportDoneDto): string {
  const imported = `Imported ${count(done.added, 'conversation', 'conversations')} (${count(done.messages, 'message', 'messages')})`
  if (done.skipped === 0) return `${imported}.`
  return `${imported}; ${done.skipped.toLocaleString('en-US')} ${done.skipped === 1 ? 'was' : 'were'} already here.`
}
