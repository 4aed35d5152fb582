// Voluntary evictions (node drains, upgrades) take media pods one at a time; each then drains via preStop.
import type { KubeObject } from '../api/types.js';
import { meta, type BuildContext } from './build-context.js';

export function podDisruptionBudget(ctx: BuildContext): KubeObject[] {
  if (!ctx.spec.podDisruptionBudget.enabled) return [];
  return [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: meta(ctx, ctx.names.pdb),
      spec: { maxUnavailable: ctx.spec.podDisruptionBudget.maxUnavailable, selector: { matchLabels: ctx.selector } },
    },
  ];
}
