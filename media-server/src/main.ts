// The composition root: environment -> config -> logger -> node; SIGTERM drains, a second signal (or SIGINT)
// stops at once. Exit codes: 0 after a clean stop, 1 for bad configuration or a failed start.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseConfig } from './config/config.js';
import { createLogger } from './logging/logger.js';
import { startNode } from './node.js';

const parsed = parseConfig(process.env, {
  hostname: os.hostname(),
  cpuCount: os.availableParallelism(),
  randomSecret: () => randomBytes(48).toString('base64url'),
});
if (!parsed.ok) {
  for (const warning of parsed.warnings) console.error(`warning: ${warning}`);
  console.error('Invalid configuration:');
  for (const error of parsed.errors) console.error(`  - ${error}`);
  process.exit(1);
}
const { config } = parsed;
const logger = createLogger({ level: config.logLevel, structured: config.structuredLogging });
for (const warning of parsed.warnings) logger.warn(warning);
logger.info({ mode: config.mode }, 'starting fishjam node');

let node;
try {
  node = await startNode(config, logger);
} catch (error) {
  logger.fatal({ err: error }, 'start-up failed');
  process.exit(1);
}
const started = node;

let signals = 0;
async function onSignal(signal: NodeJS.Signals): Promise<void> {
  signals++;
  if (signal === 'SIGTERM' && signals === 1) {
    logger.info('SIGTERM: draining (send SIGTERM again or SIGINT to stop now)');
    const outcome = await started.drain();
    logger.info({ outcome }, 'drain finished');
  } else {
    logger.info({ signal }, 'stopping now');
  }
  await started.stop();
  process.exit(0);
}
process.on('SIGTERM', (s) => void onSignal(s));
process.on('SIGINT', (s) => void onSignal(s));
