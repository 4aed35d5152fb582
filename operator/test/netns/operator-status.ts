// Runs INSIDE a network namespace on the pods' bridge (`ip netns exec <ns> node --import tsx operator-status.ts <json>`):
// one status refresh with the operator's own code, as the controller does it (controller.ts refreshStatus): the
// cluster's pods by label, the metrics port from the resolved spec, each pod's /metrics over HTTP, the aggregate and
// the status subresource. Input (argv[2], JSON): { cluster, pods, outcome, operator }. Prints { aggregate, status }.
import { resolveSpec, type OperatorDefaults } from '../../src/api/defaults.js';
import type { FishjamCluster } from '../../src/api/types.js';
import { validateSpec } from '../../src/api/validate.js';
import { aggregate } from '../../src/status/aggregate.js';
import { buildStatus, type ReconcileOutcome } from '../../src/status/build-status.js';
import { collectLoads, podViews, type PodLike } from '../../src/status/collect.js';
import { httpNodeClient } from '../../src/status/node-client.js';

interface Input {
  cluster: FishjamCluster;
  pods: PodLike[];
  outcome: ReconcileOutcome;
  operator: OperatorDefaults;
}

const input = JSON.parse(process.argv[2]!) as Input;
const name = input.cluster.metadata.name!;
const metricsPort = validateSpec(input.cluster.spec).length === 0 ? resolveSpec(name, input.cluster.spec ?? {}, input.operator).metrics.port : undefined;
const pods = podViews(name, input.pods);
let scrapeErrors = 0;
const loads = await collectLoads(pods, metricsPort, httpNodeClient(), () => scrapeErrors++);
const agg = aggregate(name, pods, loads);
const status = buildStatus(input.cluster, input.outcome, agg, new Date());
process.stdout.write(JSON.stringify({ aggregate: agg, status, scrapeErrors, metricsPort }) + '\n');
