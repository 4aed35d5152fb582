import type { JsonSchema } from '../src/api/schema.js';

/** The CRD schema as the API server applies it with strict field validation: unknown fields are errors. */
export function strictJsonSchema(schema: JsonSchema): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith('x-kubernetes-') || k === 'format' || k === 'description') continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([p, s]) => [p, strictJsonSchema(s)]));
    else if (k === 'items' || k === 'additionalProperties') out[k] = strictJsonSchema(v as JsonSchema);
    else if (k === 'anyOf') out[k] = (v as JsonSchema[]).map(strictJsonSchema);
    else out[k] = v;
  }
  if (schema.properties && !schema.additionalProperties && !schema['x-kubernetes-preserve-unknown-fields']) out['additionalProperties'] = false;
  return out;
}
