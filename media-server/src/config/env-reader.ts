// Typed readers for environment variables that collect errors instead of throwing, so start-up can report every
// problem at once. Fishjam also accepts the older JF_* names with a deprecation warning; so do we.
import { isIP } from 'node:net';

export class EnvReader {
  private readonly errors: string[] = [];
  private readonly warnings: string[] = [];

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  fail(message: string): void {
    this.errors.push(message);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  result(): { errors: string[]; warnings: string[] } {
    return { errors: [...this.errors], warnings: [...this.warnings] };
  }

  /** Raw value; empty strings count as unset (docker-compose writes `VAR:` as empty). */
  string(name: string): string | undefined {
    const value = this.env[name];
    if (value !== undefined && value !== '') return value;
    const legacy = 'JF_' + name.slice(3);
    const old = this.env[legacy];
    if (name.startsWith('FJ_') && old !== undefined && old !== '') {
      this.warn(`${legacy} is deprecated, use ${name}`);
      return old;
    }
    return undefined;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const v = raw.toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    this.fail(`${name} must be "true" or "false", got: ${raw}`);
    return fallback;
  }

  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const min = range.min ?? Number.MIN_SAFE_INTEGER;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
      this.fail(`${name} must be an integer${describeRange(range)}, got: ${raw}`);
      return fallback;
    }
    return Number(raw);
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, { min: 1, max: 65535 });
  }

  optionalPort(name: string): number | undefined {
    if (this.string(name) === undefined) return undefined;
    return this.port(name, 0);
  }

  ip(name: string, fallback: string): string {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (isIP(raw) === 0) {
      this.fail(`${name} must be an IPv4 or IPv6 address (e.g. 0.0.0.0), got: ${raw}`);
      return fallback;
    }
    return raw;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.fail(`${name} must be one of ${allowed.join(', ')}, got: ${raw}`);
    return fallback;
  }

  list(name: string, separator: string): string[] {
    const raw = this.string(name);
    if (raw === undefined) return [];
    return raw.split(separator).map((s) => s.trim()).filter((s) => s.length > 0);
  }
}

function describeRange(range: { min?: number; max?: number }): string {
  if (range.min !== undefined && range.max !== undefined) return ` between ${range.min} and ${range.max}`;
  if (range.min !== undefined) return ` >= ${range.min}`;
  if (range.max !== undefined) return ` <= ${range.max}`;
  return '';
}
