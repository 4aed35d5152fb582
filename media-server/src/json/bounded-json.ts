// JSON from clients, parsed only when it is small and shallow enough. V8 parses deeply nested JSON without trouble,
// but JSON.stringify, structured clone and any recursive walk overflow the stack on it (a RangeError thrown wherever
// the value travels next: notifications, dist links, logs). Rejecting it where it enters is the only place that
// covers every later use.

export interface JsonLimits {
  /** length of the text in UTF-16 code units (what a string's length counts) */
  readonly maxLength: number;
  /** nesting of arrays and objects; a scalar has depth 0, `[]` and `{}` depth 1 */
  readonly maxDepth: number;
}

export type BoundedJson = { ok: true; value: unknown } | { ok: false; error: string };

/** Nesting depth of JSON text, scanned without parsing; stops counting once past `limit`. */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

export function parseBoundedJson(text: string, limits: JsonLimits): BoundedJson {
  if (text.length > limits.maxLength) return { ok: false, error: `JSON longer than ${limits.maxLength} characters` };
  if (jsonNestingDepth(text, limits.maxDepth) > limits.maxDepth) return { ok: false, error: `JSON nested deeper than ${limits.maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: 'not JSON' };
  }
}

/** The depth of an already parsed value (for values that did not come through parseBoundedJson); iterative. */
export function valueDepthExceeds(value: unknown, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > maxDepth) return true;
    for (const inner of Array.isArray(v) ? v : Object.values(v)) stack.push([inner, d + 1]);
  }
  return false;
}
