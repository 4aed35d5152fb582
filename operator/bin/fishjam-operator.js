#!/usr/bin/env node
// The fishjam-operator command (`npx fishjam-operator render -f cluster.yaml` from a checkout). In a checkout the
// TypeScript sources run through tsx, so the command never lags behind them; a built package (no src/) runs dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'fishjam-operator.ts');
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source);
} else {
  await import(join(root, 'dist', 'cli', 'fishjam-operator.js'));
}
