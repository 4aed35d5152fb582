// An HTTP failure with Fishjam's body shape {"errors": "<message>"}; DomainErrors are mapped to these in one place.
import { DomainError, type DomainErrorCode } from '../rooms/domain-errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF: Record<DomainErrorCode, number> = {
  invalid_room_config: 400,
  room_already_exists: 400,
  room_not_found: 404,
  peer_not_found: 404,
  invalid_peer_type: 400,
  invalid_peer_options: 400,
  peer_type_disabled: 400,
  peer_limit_reached: 503,
  node_draining: 503,
  media_unavailable: 503,
  owner_unreachable: 503,
  invalid_component: 400,
  component_type_disabled: 400,
  component_not_found: 404,
  component_limit_reached: 400,
  component_source_not_found: 404,
  component_capacity: 503,
};

export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof DomainError) return new HttpError(STATUS_OF[error.code], error.message);
  return undefined;
}
