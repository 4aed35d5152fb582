// Validates any object the project ships or generates: built-in kinds with kubernetes-models (the Kubernetes
// OpenAPI schemas), FishjamCluster with ajv against the CRD schema plus the operator's cross-field rules, and
// ServiceMonitor against the fields prometheus-operator requires (kubernetes-models has no model for it).
import { Ajv } from 'ajv';
import { specSchema } from '../src/api/schema.js';
import { describeErrors, validateSpec } from '../src/api/validate.js';
import { strictJsonSchema } from './strict-json-schema.js';

const ajv = new Ajv({ strict: false, allErrors: true });
const specValidator = ajv.compile(strictJsonSchema(specSchema));

type AnyObject = { apiVersion?: string; kind?: string; metadata?: { name?: string }; spec?: unknown; [k: string]: unknown };

export async function validateKubeObject(obj: AnyObject): Promise<void> {
  const { apiVersion, kind } = obj;
  if (!apiVersion || !kind) throw new Error(`object without apiVersion/kind: ${JSON.stringify(obj).slice(0, 100)}`);
  const where = `${kind}/${obj.metadata?.name}`;
  if (apiVersion === 'fishjam-ts.dev/v1alpha1' && kind === 'FishjamCluster') {
    if (!specValidator(obj.spec ?? {})) throw new Error(`${where}: CRD schema: ${ajv.errorsText(specValidator.errors)}`);
    const errors = validateSpec(obj.spec);
    if (errors.length > 0) throw new Error(`${where}: ${describeErrors(errors)}`);
    return;
  }
  if (apiVersion === 'monitoring.coreos.com/v1' && kind === 'ServiceMonitor') {
    const spec = obj.spec as { selector?: object; endpoints?: { port?: string }[] } | undefined;
    if (!obj.metadata?.name || !spec?.selector || !Array.isArray(spec.endpoints) || !spec.endpoints.every((e) => typeof e.port === 'string')) {
      throw new Error(`${where}: a ServiceMonitor needs metadata.name, spec.selector and spec.endpoints[].port`);
    }
    return;
  }
  if (apiVersion === 'keda.sh/v1alpha1') {
    const mod = (await import(`@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`)) as Record<string, new (o: unknown) => { validate(): void }>;
    const Model = mod[kind];
    if (!Model) throw new Error(`no @kubernetes-models/keda class for ${kind}`);
    try {
      new Model(obj).validate();
    } catch (err) {
      throw new Error(`${where}: ${String(err)}`);
    }
    return;
  }
  const gv = apiVersion.includes('/') ? apiVersion : `v1`;
  const mod = (await import(`kubernetes-models/${gv}/${kind}`)) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[kind];
  if (!Model) throw new Error(`no kubernetes-models class for ${apiVersion} ${kind}`);
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${where}: ${String(err)}`);
  }
}
