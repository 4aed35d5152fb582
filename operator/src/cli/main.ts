// The fishjam-operator command line. `render -f <file|->` prints, offline, what the operator would apply for the
// FishjamClusters in the file; no kubeconfig, no API server. Operator defaults come from the same environment
// variables as the operator's (FISHJAM_DEFAULT_IMAGE, CLUSTER_DOMAIN, OPERATOR_NAMESPACE, OPERATOR_POD_LABELS), or
// flags. Exit status: 0 all rendered, 1 some input refused (the rest is still printed), 2 usage error.
import { readFileSync } from 'node:fs';
import { readOperatorConfig } from '../operator-config.js';
import { MAX_INPUT_BYTES, render } from './render.js';

const USAGE = `usage: fishjam-operator render -f <file|-> [-n <namespace>] [--image <ref>] [--cluster-domain <domain>]
                              [--operator-namespace <ns>] [--operator-pod-labels k=v,k=v]
Prints, as YAML, the objects the operator would apply for each FishjamCluster in the file (offline).`;

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => string;
  env: Record<string, string | undefined>;
}

const FLAGS: Record<string, string> = {
  '-f': 'file', '--filename': 'file', '-n': 'namespace', '--namespace': 'namespace', '--image': 'FISHJAM_DEFAULT_IMAGE',
  '--cluster-domain': 'CLUSTER_DOMAIN', '--operator-namespace': 'OPERATOR_NAMESPACE', '--operator-pod-labels': 'OPERATOR_POD_LABELS',
};

export function run(argv: readonly string[], io: Io): number {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'render') {
    io.stderr(`${command === undefined ? 'no command' : `unknown command "${command}"`}\n${USAGE}\n`);
    return 2;
  }
  const values: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS[flag];
    const value = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : rest[++i];
    if (!key || value === undefined) {
      io.stderr(`${key ? `${flag} needs a value` : `unknown argument "${arg}"`}\n${USAGE}\n`);
      return 2;
    }
    values[key] = value;
  }
  if (!values['file']) {
    io.stderr(`-f <file|-> is required\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = readOperatorConfig({ ...io.env, ...values });
  } catch (err) {
    io.stderr(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  let text: string;
  try {
    text = io.readFile(values['file'] === '-' ? '/dev/stdin' : values['file']);
  } catch (err) {
    io.stderr(`cannot read ${values['file']}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const result = render(text, { operator: config.operator, namespace: values['namespace'] ?? 'default' });
  if (result.yaml) io.stdout(result.yaml);
  for (const e of result.errors) io.stderr(`${e}\n`);
  if (result.objects.length === 0 && result.errors.length === 0) io.stderr('no FishjamCluster in the input\n');
  return result.errors.length > 0 ? 1 : 0;
}

/** Reads a file, refusing one over the input limit before loading it whole. */
function readBounded(path: string): string {
  const data = readFileSync(path);
  if (data.byteLength > MAX_INPUT_BYTES) throw new Error(`larger than ${MAX_INPUT_BYTES} bytes`);
  return data.toString('utf8');
}

export function main(): void {
  process.exitCode = run(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readFile: readBounded,
    env: process.env,
  });
}
