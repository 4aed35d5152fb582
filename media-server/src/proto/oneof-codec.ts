import protobuf from 'protobufjs';
import type { DecodeResult } from './decode-result.js';

/**
 * Encodes and decodes a message whose whole content is one oneof (as PeerMessage and ServerMessage are), exposing
 * it as `{ [fieldName]: value }` with camelCase names, the shape the SDK's generated code also uses.
 */
export class OneofCodec {
  readonly #type: protobuf.Type;
  readonly #oneof: string;

  constructor(type: protobuf.Type, oneof: string) {
    this.#type = type;
    this.#oneof = oneof;
  }

  encode(message: Readonly<Record<string, unknown>>): Uint8Array {
    return this.#type.encode(this.#type.fromObject(message)).finish();
  }

  decode(bytes: Uint8Array): DecodeResult<Record<string, unknown>> {
    let decoded: protobuf.Message;
    try {
      decoded = this.#type.decode(bytes);
    } catch (error) {
      return { ok: false, error: `invalid ${this.#type.name}: ${(error as Error).message}` };
    }
    // defaults: proto3 omits empty strings and zero enums on the wire; callers expect them present.
    const object = this.#type.toObject(decoded, { defaults: true, longs: Number });
    // Oneof members get no defaults, so the one present on the object is the one on the wire (the last wins).
    const members = this.#type.oneofs[this.#oneof]?.oneof ?? [];
    const field = members.filter((name) => object[name] !== undefined && object[name] !== null).at(-1);
    if (field === undefined) return { ok: false, error: `empty ${this.#type.name}` };
    return { ok: true, value: { [field]: withoutNulls(object[field]) } };
  }
}

// toObject({defaults: true}) sets absent sub-messages to null; the typed shapes use "absent" instead.
function withoutNulls(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (inner !== null) out[key] = withoutNulls(inner);
  }
  return out;
}
