import type { DecodeResult } from './decode-result.js';
import { loadFishjamRoot } from './fishjam-schema.js';
import { OneofCodec } from './oneof-codec.js';

/** fishjam.PeerMessage: exactly one of its oneof `content` fields (authenticated=1, auth_request=2, media_event=3). */
export type PeerMessage =
  | { authenticated: Record<string, never> }
  | { authRequest: { token: string } }
  | { mediaEvent: { data: string } };

const codec = new OneofCodec(loadFishjamRoot().lookupType('fishjam.PeerMessage'), 'content');

export function encodePeerMessage(message: PeerMessage): Uint8Array {
  return codec.encode(message);
}

/** Never throws: truncated or foreign bytes, and a frame with no content, come back as an error value. */
export function decodePeerMessage(bytes: Uint8Array): DecodeResult<PeerMessage> {
  return codec.decode(bytes) as DecodeResult<PeerMessage>;
}
