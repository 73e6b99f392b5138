// The IPC types the UI uses, in one place. All are generated from the Rust side
// (./bindings); none is redeclared here.
export type {
  ChatEvent,
  CommandError,
  ConversationDto,
  ConversationSummaryDto,
  ConversationViewDto,
  ErrorKind,
  MessageDto,
  MessageErrorDto,
  MessageStatusDto,
  ModelDto,
  Protection,
  ProviderChange,
  ProviderDto,
  ReplyStartedDto,
  RoleDto,
  SearchHitDto,
  SettingsDto,
  VaultState,
  VaultStatusDto,
} from './bindings'
