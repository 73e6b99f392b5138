// The projects, as the sidebar lists them (by name, with their counts) and the project
// dialog edits them. Counts change with every move, archive and new chat, so the list is
// read again from the engine after each (it is one small query).

import * as ipc from './ipc'
import type { ProjectChangeInput, ProjectDto, ProjectFileDto, ProjectSummaryDto } from './types'

export class ProjectsStore {
  items = $state.raw<ProjectSummaryDto[]>([])
  loaded = $state(false)
  error = $state<string | null>(null)
  /** Bumped by each load and by reset: only the newest answer is kept. */
  private generation = 0

  /** Reads the projects again. */
  async load(): Promise<void> {
    const generation = ++this.generation
    try {
      const items = await ipc.listProjects()
      if (generation !== this.generation) return
      this.items = items
      this.loaded = true
      this.error = null
    } catch (raw) {
      if (generation === this.generation) this.error = ipc.toHearthError(raw).message
    }
  }

  find(id: string | null): ProjectSummaryDto | undefined {
    return id === null ? undefined : this.items.find((p) => p.project.id === id)
  }

  /** A project's name, for labels ('' when it is not known). */
  nameOf(id: string | null): string {
    return this.find(id)?.project.name ?? ''
  }

  async create(name: string, instructions: string): Promise<ProjectDto> {
    const project = await ipc.createProject(name.trim(), instructions)
    await this.load()
    return project
  }

  async change(id: string, change: ProjectChangeInput): Promise<ProjectDto> {
    const project = await ipc.changeProject(id, change)
    this.items = this.items.map((p) => (p.project.id === id ? { ...p, project } : p))
    void this.load()
    return project
  }

  /** Deletes a project; how many conversations went with it. */
  async remove(id: string, deleteConversations: boolean): Promise<number> {
    const deleted = await ipc.deleteProject(id, deleteConversations)
    this.items = this.items.filter((p) => p.project.id !== id)
    void this.load()
    return deleted
  }

  async files(id: string): Promise<ProjectFileDto[]> {
    return ipc.listProjectFiles(id)
  }

  reset(): void {
    this.generation++
    this.items = []
    this.loaded = false
    this.error = null
  }
}
