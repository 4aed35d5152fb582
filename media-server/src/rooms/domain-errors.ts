// Domain failures. Each boundary maps them once: api/ to a status and message, signaling/ to a close reason.
export type DomainErrorCode =
  | 'invalid_room_config'
  | 'room_already_exists'
  | 'room_not_found'
  | 'peer_not_found'
  | 'invalid_peer_type'
  | 'invalid_peer_options'
  | 'peer_type_disabled'
  | 'peer_limit_reached'
  | 'node_draining'
  | 'media_unavailable'
  | 'owner_unreachable'
  | 'invalid_component'
  | 'component_type_disabled'
  | 'component_not_found'
  | 'component_limit_reached'
  | 'component_source_not_found'
  | 'component_capacity';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
