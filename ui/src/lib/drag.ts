// Dragging a conversation row onto a project (HTML5 drag and drop). The row puts the
// conversation's id in the drag data under Hearth's own type, so a drop target knows a
// conversation from a file or text dragged in from elsewhere. WebKitGTK hides the data
// until the drop, but shows the types during the drag, so targets decide from the type.

/** The drag data type that carries a conversation id. */
export const CONVERSATION_TYPE = 'application/x-hearth-conversation'

/** The part of `DataTransfer` used here (tests pass their own). */
export interface DragData {
  readonly types: readonly string[]
  getData(type: string): string
  setData(type: string, data: string): void
  effectAllowed: string
  dropEffect: string
}

/** Starts dragging the conversation `id` (with its title as plain text for other apps). */
export function startConversationDrag(data: DragData | null, id: string, title: string): void {
  if (data === null) return
  data.setData(CONVERSATION_TYPE, id)
  data.setData('text/plain', title)
  data.effectAllowed = 'move'
}

/** Whether a drag carries a conversation (so a project may accept it). */
export function carriesConversation(data: DragData | null): boolean {
  return data !== null && Array.from(data.types).includes(CONVERSATION_TYPE)
}

/** The conversation id a drop carries, or null (a file, text, or nothing). */
export function droppedConversation(data: DragData | null): string | null {
  if (!carriesConversation(data)) return null
  const id = data!.getData(CONVERSATION_TYPE).trim()
  return id === '' ? null : id
}
