// Server-side apply as far as one controller needs it: the applied configuration of each field manager is
// remembered; fields a manager applied before and omits now are removed; a field another manager applied with a
// different value is a conflict unless force=true. Lists are atomic (replaced whole), maps merge.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaf paths of an applied configuration (a list counts as one leaf). */
export function leafPaths(value: Json, prefix: string[] = []): string[][] {
  if (isObj(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return [prefix];
}

export function getPath(value: Json | undefined, path: string[]): Json | undefined {
  let cur: Json | undefined = value;
  for (const p of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function deletePath(value: Obj, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !isObj(value)) return;
  if (rest.length === 0) {
    delete value[head];
    return;
  }
  const child = value[head];
  if (isObj(child)) {
    deletePath(child, rest);
    if (Object.keys(child).length === 0) delete value[head];
  }
}

function merge(target: Obj, patch: Obj): Obj {
  for (const [k, v] of Object.entries(patch)) {
    const cur = target[k];
    target[k] = isObj(v) && isObj(cur) ? merge(cur, v) : structuredClone(v);
  }
  return target;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

export interface ApplyResult {
  object: Obj;
  conflicts: string[];
}

/**
 * existing: the stored object (or undefined); applied: the request body; previous: each manager's last applied
 * configuration of this object. Identity fields (apiVersion, kind, metadata.name/namespace) are not owned.
 */
export function serverSideApply(
  existing: Obj | undefined,
  applied: Obj,
  manager: string,
  previous: Map<string, Obj>,
  force: boolean,
): ApplyResult {
  const owned = (cfg: Obj) =>
    leafPaths(cfg).filter((p) => !(p.length === 1 && (p[0] === 'apiVersion' || p[0] === 'kind')) && !(p[0] === 'metadata' && (p[1] === 'name' || p[1] === 'namespace')));
  const conflicts: string[] = [];
  for (const [other, cfg] of previous) {
    if (other === manager) continue;
    for (const path of owned(cfg)) {
      const mine = getPath(applied, path);
      if (mine !== undefined && !jsonEqual(mine, getPath(cfg, path))) conflicts.push(`${path.join('.')} (owned by ${other})`);
    }
  }
  if (conflicts.length > 0 && !force) return { object: existing ?? {}, conflicts };
  const result: Obj = structuredClone(existing ?? {});
  const before = previous.get(manager);
  if (before) {
    const now = new Set(owned(applied).map((p) => p.join('\u0000')));
    for (const path of owned(before)) {
      // Removed from this manager's configuration: the field goes, unless it is a prefix of a field still applied.
      const key = path.join('\u0000');
      if (!now.has(key) && getPath(applied, path) === undefined) deletePath(result, path);
    }
  }
  merge(result, applied);
  if (force) {
    // Forced fields change hands: other managers no longer own them.
    for (const [other, cfg] of previous) {
      if (other === manager) continue;
      for (const path of owned(applied)) deletePath(cfg, path);
    }
  }
  return { object: result, conflicts };
}
