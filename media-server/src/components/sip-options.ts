// Options of a SIP component (shared/spec/fishjam-components.md 6.5) and the body of a dial request, checked as the
// original casts them. Pure. Beyond the original: the registrar address must be host[:port] (a name or an IPv4
// address, port 1..65535), each credential at most MAX_CREDENTIAL_LENGTH characters without control characters, and a
// phone number only the characters of a SIP user part (they are written into SIP headers).
import { isIP } from 'node:net';
import { DomainError } from '../rooms/domain-errors.js';
import type { SipAccount } from './sip-user-agent.js';

export const MAX_CREDENTIAL_LENGTH = 256;
export const DEFAULT_SIP_PORT = 5060;

export interface SipSpec {
  readonly address: string;
  readonly username: string;
  readonly password: string;
  readonly registrarHost: string;
  readonly registrarPort: number;
}

const INVALID_BODY = 'Invalid request body structure';

export function parseSipOptions(options: Record<string, unknown>): SipSpec {
  const credentials = options.registrarCredentials;
  if (credentials === undefined || credentials === null) throw new DomainError('invalid_component', 'Required field "registrarCredentials" missing');
  if (typeof credentials !== 'object' || Array.isArray(credentials)) invalid();
  const c = credentials as Record<string, unknown>;
  const fields = {} as Record<'address' | 'username' | 'password', string>;
  for (const field of ['address', 'username', 'password'] as const) {
    const value = c[field];
    if (value === undefined || value === null) throw new DomainError('invalid_component', `Required field "${field}" missing`);
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || value.length > MAX_CREDENTIAL_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) invalid();
    fields[field] = value;
  }
  const registrar = parseAddress(fields.address);
  if (!registrar || !/^[^\s"<>@:;,]+$/.test(fields.username) || fields.username.length === 0) {
    throw new DomainError('invalid_component', 'Invalid registrar credentials: expected address host[:port] and a username');
  }
  return { ...fields, registrarHost: registrar.host, registrarPort: registrar.port };
}

export function sipProperties(spec: SipSpec): Record<string, unknown> {
  return { registrarCredentials: { address: spec.address, username: spec.username, password: spec.password } };
}

export function sipAccount(spec: SipSpec, externalIp: string): SipAccount {
  return { registrarHost: spec.registrarHost, registrarPort: spec.registrarPort, username: spec.username, password: spec.password, externalIp };
}

/** The phone number of POST /sip/.../call: a key that is missing or not a string is the original's 400. */
export function parseDialBody(body: Record<string, unknown>): string {
  const number = body.phoneNumber;
  if (typeof number !== 'string') invalid();
  if (!/^[0-9A-Za-z+*#._~-]{1,64}$/.test(number as string)) throw new DomainError('invalid_component', 'Invalid phone number: expected 1 to 64 of 0-9 A-Z a-z + * # . _ ~ -');
  return number as string;
}

function parseAddress(address: string): { host: string; port: number } | undefined {
  const m = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(address);
  if (!m) return undefined;
  const host = m[1]!;
  const port = m[2] === undefined ? DEFAULT_SIP_PORT : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  if (isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) return undefined;
  return { host, port };
}

function invalid(): never {
  throw new DomainError('invalid_component', INVALID_BODY);
}
