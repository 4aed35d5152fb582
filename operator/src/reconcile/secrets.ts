// Secrets the operator generates when the spec names none. They are created once and never rewritten, so a
// running cluster keeps its token, cookie and key base across reconciles and operator restarts.
import type { KubeObject } from '../api/types.js';
import { meta, type BuildContext } from './build-context.js';

/** randomSecret(bytes) returns a random string; passed in so tests are deterministic. */
export function generatedSecrets(ctx: BuildContext, randomSecret: (bytes: number) => string): KubeObject[] {
  const podNetwork = ctx.spec.exposure.mode === 'PodNetwork';
  const refs = [ctx.spec.apiToken, ctx.spec.dist.cookie, ctx.spec.secretKeyBase, ...(podNetwork ? [ctx.spec.exposure.turn.secret] : [])];
  // The key base signs peer tokens (64 bytes, as Phoenix expects); token, cookie and the shared TURN secret need less.
  const sizes = [32, 32, 64, 32];
  return refs.flatMap((ref, i) =>
    ref.generated
      ? [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: meta(ctx, ref.name),
            type: 'Opaque',
            stringData: { [ref.key]: randomSecret(sizes[i]!) },
          },
        ]
      : [],
  );
}
