// Validates response bodies against Fishjam 0.6.3's own OpenAPI schemas (ajv understands OpenAPI's `nullable`).
import { Ajv } from 'ajv';
import spec from '../../src/api/openapi/fishjam-0.6.3.json' with { type: 'json' };

const ajv = new Ajv({ strict: false, allErrors: true });
// OpenAPI 3.0 allows `nullable` without `type` (meaning: anything, null included); JSON Schema has no such form.
function withoutTypelessNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutTypelessNullable);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = withoutTypelessNullable(v);
  if ('nullable' in out && !('type' in out)) delete out.nullable;
  // and a nullable enum admits null (ajv applies `nullable` to `type` only)
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  return out;
}
/**
 * `Component` is a oneOf with a discriminator on `type`. Checked as a plain oneOf, an HLS object also matches
 * ComponentRecording (only subscribeMode is required there), and ajv's own discriminator support needs `const` types
 * in each branch, which this spec lacks: so the mapping becomes if/then branches (and an unmapped type fails).
 */
function withComponentDiscriminator(components: any): any {
  const component = components.schemas.Component;
  const mapping = component.discriminator.mapping as Record<string, string>;
  const { oneOf: _oneOf, discriminator: _discriminator, ...rest } = component;
  components.schemas.Component = {
    ...rest,
    required: ['type'],
    properties: { type: { enum: Object.keys(mapping) } },
    allOf: Object.entries(mapping).map(([type, ref]) => ({ if: { properties: { type: { const: type } }, required: ['type'] }, then: { $ref: ref } })),
  };
  return components;
}
ajv.addSchema({ components: withComponentDiscriminator(withoutTypelessNullable((spec as any).components)) }, 'fishjam');

export function validateAgainst(schemaName: string, body: unknown): string[] {
  const validate = ajv.getSchema(`fishjam#/components/schemas/${schemaName}`);
  if (!validate) throw new Error(`no schema ${schemaName}`);
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
