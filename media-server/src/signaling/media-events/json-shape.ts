/**
 * Tiny validating readers for JSON received from clients. A reader throws ShapeError with the path of the offending
 * value; the public parse functions catch it once and turn it into an error value, so they never throw.
 */
export class ShapeError extends Error {}

export type Reader<T> = (value: unknown, path: string) => T;

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new ShapeError(`${path}: expected ${expected}, got ${got}`);
}

export const str: Reader<string> = (value, path) => (typeof value === 'string' ? value : fail(path, 'string', value));

export const num: Reader<number> = (value, path) =>
  typeof value === 'number' && Number.isFinite(value) ? value : fail(path, 'number', value);

export const bool: Reader<boolean> = (value, path) => (typeof value === 'boolean' ? value : fail(path, 'boolean', value));

export const int: Reader<number> = (value, path) =>
  Number.isInteger(value) ? (value as number) : fail(path, 'integer', value);

/** Metadata is opaque JSON owned by the application; absent (dropped by JSON.stringify as undefined) becomes null. */
export const anyJson: Reader<unknown> = (value) => (value === undefined ? null : value);

/**
 * Metadata of a peer or track: kept by the room, sent to every other peer, to notifications and webhooks. Bounded so
 * that one client cannot make every other one (and the node's memory) carry megabytes per update.
 */
export const MAX_METADATA_LENGTH = 16 * 1024;
export const metadataJson: Reader<unknown> = (value, path) => {
  const metadata = anyJson(value, path);
  const length = JSON.stringify(metadata)?.length ?? 0;
  if (length > MAX_METADATA_LENGTH) throw new ShapeError(`${path}: metadata of ${length} characters, more than ${MAX_METADATA_LENGTH}`);
  return metadata;
};

export function literal<T extends string>(expected: T): Reader<T> {
  return (value, path) => (value === expected ? expected : fail(path, JSON.stringify(expected), value));
}

export function oneOfStrings<T extends string>(allowed: readonly T[]): Reader<T> {
  return (value, path) =>
    typeof value === 'string' && (allowed as readonly string[]).includes(value)
      ? (value as T)
      : fail(path, allowed.map((a) => JSON.stringify(a)).join(' | '), value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function array<T>(item: Reader<T>): Reader<T[]> {
  return (value, path) => (Array.isArray(value) ? value.map((v, i) => item(v, `${path}[${i}]`)) : fail(path, 'array', value));
}

/** A JSON object used as a map (trackId -> ...). */
export function dict<T>(item: Reader<T>): Reader<Record<string, T>> {
  return (value, path) => {
    if (!isRecord(value)) return fail(path, 'object', value);
    const out: Record<string, T> = {};
    for (const [key, inner] of Object.entries(value)) {
      // JSON.parse makes "__proto__" an own key; assigning it would swap `out`'s prototype instead of adding an entry.
      // No mid or track id is ever called that.
      if (key === '__proto__') continue;
      out[key] = item(inner, `${path}.${key}`);
    }
    return out;
  };
}

type Fields<T> = { [K in keyof T]-?: Reader<T[K]> };

/** An object with known fields; unknown extra fields are dropped, as newer SDKs may add some. */
export function object<T>(fields: Fields<T>): Reader<T> {
  return (value, path) => {
    if (!isRecord(value)) return fail(path, 'object', value);
    const out: Partial<T> = {};
    for (const key of Object.keys(fields) as (keyof T & string)[]) {
      const read = fields[key];
      const field = read(value[key], `${path}.${key}`);
      if (field !== undefined) out[key] = field;
    }
    return out as T;
  };
}

export function optional<T>(read: Reader<T>): Reader<T | undefined> {
  return (value, path) => (value === undefined ? undefined : read(value, path));
}

export function nullable<T>(read: Reader<T>): Reader<T | null> {
  return (value, path) => (value === null ? null : read(value, path));
}

/** Falls back to a value when the field is absent or null (the SDK sends null midToTrackId before it has a connection). */
export function withDefault<T>(read: Reader<T>, fallback: () => T): Reader<T> {
  return (value, path) => (value === undefined || value === null ? fallback() : read(value, path));
}

export function either<A, B>(first: Reader<A>, second: Reader<B>, expected: string): Reader<A | B> {
  return (value, path) => {
    try {
      return first(value, path);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
    }
    try {
      return second(value, path);
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error;
      return fail(path, expected, value);
    }
  };
}
