// `fishjam-operator render`: the objects the operator would apply for FishjamClusters, offline, as YAML — for GitOps
// review and diffing. The same pure reconcile the controller runs (reconcile/desired.ts), fed with "nothing exists
// yet": the first apply. Generated Secrets hold random values made at creation, so they are listed as comments,
// never printed. Pure: text in, text out.
import { parseAllDocuments, stringify } from 'yaml';
import type { OperatorDefaults } from '../api/defaults.js';
import { API_VERSION, KIND, type FishjamCluster, type KubeObject } from '../api/types.js';
import { desired } from '../reconcile/desired.js';

/** Input larger than this is refused (a cluster spec is a few KiB). */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;
export const MAX_DOCUMENTS = 100;

export interface RenderOptions {
  operator: OperatorDefaults;
  /** Namespace for clusters whose metadata names none. */
  namespace: string;
  now?: Date;
}

export interface RenderResult {
  yaml: string;
  objects: KubeObject[];
  errors: string[];
}

/** A stable stand-in for the uid the API server will give the FishjamCluster (ownerReferences need one). */
export const placeholderUid = (namespace: string, name: string) => `00000000-0000-0000-0000-${hex12(`${namespace}/${name}`)}`;
function hex12(text: string): string {
  let h = 0x811c9dc5;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return (h.toString(16).padStart(8, '0') + (text.length % 0x10000).toString(16).padStart(4, '0')).slice(0, 12);
}

/** Objects for one FishjamCluster object (as read from a file or from the API server). */
export function renderCluster(cluster: FishjamCluster, opts: RenderOptions): { apply: KubeObject[]; secrets: KubeObject[]; error?: string } {
  const d = desired(
    cluster,
    { statefulSetReplicas: undefined, nodes: [], scaleDown: undefined, now: opts.now ?? new Date(0), randomSecret: () => '' },
    opts.operator,
  );
  if (!d.valid) return { apply: [], secrets: [], error: d.conditions.find((c) => c.type === 'SpecValid')?.message ?? 'invalid spec' };
  return { apply: d.apply, secrets: d.createIfMissing };
}

export function render(text: string, opts: RenderOptions): RenderResult {
  const errors: string[] = [];
  if (Buffer.byteLength(text) > MAX_INPUT_BYTES) return { yaml: '', objects: [], errors: [`input is larger than ${MAX_INPUT_BYTES} bytes`] };
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length > MAX_DOCUMENTS) return { yaml: '', objects: [], errors: [`more than ${MAX_DOCUMENTS} documents`] };
  const out: string[] = [];
  const objects: KubeObject[] = [];
  list.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    if (doc.errors.length > 0) {
      errors.push(`${where}: ${doc.errors[0]!.message.split('\n')[0]}`);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 50 });
    } catch (err) {
      errors.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (value === null || value === undefined) return;
    const obj = value as Partial<FishjamCluster>;
    if (typeof obj !== 'object' || obj.kind !== KIND || obj.apiVersion !== API_VERSION) {
      errors.push(`${where}: not a ${API_VERSION} ${KIND} (skipped)`);
      return;
    }
    const name = obj.metadata?.name;
    if (typeof name !== 'string' || name === '') {
      errors.push(`${where}: metadata.name is required`);
      return;
    }
    const namespace = typeof obj.metadata?.namespace === 'string' && obj.metadata.namespace !== '' ? obj.metadata.namespace : opts.namespace;
    const uid = typeof obj.metadata?.uid === 'string' ? obj.metadata.uid : placeholderUid(namespace, name);
    const cluster = { ...obj, metadata: { ...obj.metadata, name, namespace, uid } } as FishjamCluster;
    const result = renderCluster(cluster, opts);
    if (result.error) {
      errors.push(`${namespace}/${name}: ${result.error}`);
      return;
    }
    const header = [
      `# FishjamCluster ${namespace}/${name}: ${result.apply.length} objects applied (server-side apply, field manager fishjam-operator)`,
      ...result.secrets.map((s) => `# created once if missing, with random content: Secret ${s.metadata.name} (key ${Object.keys((s['stringData'] as object) ?? {}).join(', ')})`),
    ];
    out.push(header.join('\n'));
    for (const o of result.apply) {
      out.push(`---\n${stringify(o, { lineWidth: 0 }).trimEnd()}`);
      objects.push(o);
    }
  });
  return { yaml: out.length > 0 ? `${out.join('\n')}\n` : '', objects, errors };
}
