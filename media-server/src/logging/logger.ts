// pino, JSON when FJ_STRUCTURED_LOGGING=true, otherwise one readable line per record (no extra dependency).
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from '../config/config.js';

export type { Logger };

const PINO_LEVEL: Record<LogLevel, pino.Level> = { debug: 'debug', info: 'info', warning: 'warn', error: 'error' };
const LEVEL_NAME: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function createLogger(options: { level: LogLevel; structured: boolean; destination?: DestinationStream }): Logger {
  const level = PINO_LEVEL[options.level];
  if (options.structured) return pino({ level, base: undefined }, options.destination ?? process.stdout);
  return pino({ level, base: undefined }, readableLines(options.destination ?? process.stdout));
}

function readableLines(out: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      const { level, time, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      const stamp = new Date(Number(time)).toISOString().slice(11, 23);
      out.write(`${stamp} [${LEVEL_NAME[Number(level)] ?? level}] ${String(msg ?? '')}${extra ? ' ' + extra : ''}\n`);
    },
  };
}
