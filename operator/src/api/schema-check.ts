// Checks a value against the subset of JSON Schema that schema.ts uses, the way the API server does with
// strict field validation (unknown fields are errors). ajv agrees with it in test/crd-agreement.test.ts.
import type { JsonSchema } from './schema.js';

export interface FieldError {
  path: string;
  message: string;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: NonNullable<JsonSchema['type']>): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

export function checkSchema(value: unknown, schema: JsonSchema, path = 'spec'): FieldError[] {
  if (schema.anyOf) {
    const ok = schema.anyOf.some((alt) => checkSchema(value, alt, path).length === 0);
    if (!ok) return [{ path, message: `must be ${schema.anyOf.map((a) => `a ${a.type}`).join(' or ')}, got ${typeOf(value)}` }];
  }
  if (schema.type && !matchesType(value, schema.type)) {
    return [{ path, message: `must be ${schema.type === 'integer' ? 'an integer' : `a ${schema.type}`}, got ${typeOf(value)}` }];
  }
  const errors: FieldError[] = [];
  if (schema.enum && !schema.enum.includes(value as string | number)) {
    errors.push({ path, message: `must be one of ${schema.enum.join(', ')}, got ${JSON.stringify(value)}` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push({ path, message: `must be >= ${schema.minimum}, got ${value}` });
    if (schema.maximum !== undefined && value > schema.maximum) errors.push({ path, message: `must be <= ${schema.maximum}, got ${value}` });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push({ path, message: `must not be shorter than ${schema.minLength}` });
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push({ path, message: `must not be longer than ${schema.maxLength}` });
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
      errors.push({ path, message: `must match ${schema.pattern}, got ${JSON.stringify(value)}` });
    }
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push({ path, message: `must have at most ${schema.maxItems} items` });
    if (schema.items) value.forEach((item, i) => errors.push(...checkSchema(item, schema.items!, `${path}[${i}]`)));
  }
  if (typeOf(value) === 'object' && !schema['x-kubernetes-preserve-unknown-fields']) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (obj[key] === undefined) errors.push({ path: `${path}.${key}`, message: 'is required' });
    }
    for (const [key, v] of Object.entries(obj)) {
      const sub = schema.properties?.[key] ?? schema.additionalProperties;
      if (!sub) errors.push({ path: `${path}.${key}`, message: 'is not a known field' });
      else errors.push(...checkSchema(v, sub, `${path}.${key}`));
    }
  }
  return errors;
}
