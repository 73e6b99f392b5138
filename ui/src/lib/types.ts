// The IPC types the UI uses, in one place. All are generated from the Rust side
// (./bindings); none is redeclared here.
export type {
  AttachedFilesDto,
  AttachmentDto,
  ChatEvent,
  CommandError,
  ConversationDto,
  ConversationSummaryDto,
  ConversationViewDto,
  EraseResultDto,
  ErrorKind,
  InventoryDto,
  MessageDto,
  MessageErrorDto,
  MessageStatusDto,
  ModelDto,
  PendingFileDto,
  Protection,
  ProviderChange,
  ProviderDto,
  ReplyStartedDto,
  RoleDto,
  SearchHitDto,
  SettingsDto,
  StoredFileDto,
  TemporaryStartedDto,
  TemporaryTurnDto,
  VaultState,
  VaultStatusDto,
} from './bindings'

export type {
  ExportDoneDto,
  ExportFormatDto,
  ImportDoneDto,
  PickedFileDto,
  TransferProgressDto,
} from './bindings'
