// What the kubelet does with a container's env before the process starts: valueFrom references resolved (the
// pod's fields, Secrets' keys) and $(VAR) references expanded, with Kubernetes' rules
// (k8s.io/kubernetes third_party/forked/golang/expansion): `$$` is a literal `$`; `$(NAME)` is replaced by NAME's
// value when NAME is declared earlier in the list, else left as written; any other `$` stays as is.
import type { EnvVar, KubeObject } from '../../src/api/types.js';

export interface PodFields {
  'metadata.name': string;
  'metadata.namespace': string;
  'status.podIP': string;
  'status.hostIP': string;
}

export function expand(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        // unterminated: kept as written
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += vars.has(name) ? vars.get(name)! : `$(${name})`;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

/** Secrets' values by "<name>/<key>", from the generated Secrets' stringData (or base64 data). */
export function secretValues(secrets: readonly KubeObject[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const s of secrets) {
    const obj = s as KubeObject & { stringData?: Record<string, string>; data?: Record<string, string> };
    for (const [k, v] of Object.entries(obj.data ?? {})) values.set(`${s.metadata.name}/${k}`, Buffer.from(v, 'base64').toString());
    for (const [k, v] of Object.entries(obj.stringData ?? {})) values.set(`${s.metadata.name}/${k}`, v);
  }
  return values;
}

export function resolveEnv(env: readonly EnvVar[], fields: PodFields, secrets: ReadonlyMap<string, string>): Record<string, string> {
  const vars = new Map<string, string>();
  for (const e of env) {
    let value: string;
    if (e.valueFrom) {
      const from = e.valueFrom as { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
      if (from.fieldRef) {
        const v = fields[from.fieldRef.fieldPath as keyof PodFields];
        if (v === undefined) throw new Error(`${e.name}: unsupported fieldRef ${from.fieldRef.fieldPath}`);
        value = v;
      } else if (from.secretKeyRef) {
        const v = secrets.get(`${from.secretKeyRef.name}/${from.secretKeyRef.key}`);
        if (v === undefined) throw new Error(`${e.name}: no Secret ${from.secretKeyRef.name} with key ${from.secretKeyRef.key}`);
        value = v;
      } else {
        throw new Error(`${e.name}: unsupported valueFrom ${JSON.stringify(e.valueFrom)}`);
      }
    } else {
      value = expand(e.value ?? '', vars);
    }
    vars.set(e.name, value);
  }
  return Object.fromEntries(vars);
}
