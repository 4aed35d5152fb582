// The composition root: configuration -> Kubernetes client -> leader election -> controller, plus an HTTP
// endpoint for /metrics, /healthz and /readyz. SIGTERM stops the controller and releases the lease.
import { KubeConfig } from '@kubernetes/client-node';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { Controller } from './controller/controller.js';
import { EventRecorder } from './controller/events.js';
import { kubeApi } from './controller/kube-api.js';
import { LeaderElector } from './controller/leader-election.js';
import { operatorMetrics } from './controller/operator-metrics.js';
import { httpNodeClient } from './status/node-client.js';
import { readOperatorConfig } from './operator-config.js';

const config = readOperatorConfig(process.env);
const log = pino({ level: config.logLevel, base: { component: 'fishjam-operator' } });
const kc = new KubeConfig();
kc.loadFromDefault();
const api = kubeApi(kc, config.apiTimeoutMs);
const metrics = operatorMetrics();
const identity = process.env['POD_NAME'] ?? hostname();

const controller = new Controller({
  kc,
  api,
  nodes: httpNodeClient(),
  operator: config.operator,
  metrics,
  log,
  ...(config.watchNamespaces ? { namespaces: config.watchNamespaces } : {}),
  statusIntervalMs: config.statusIntervalMs,
  statusLoadIntervalMs: config.statusLoadIntervalMs,
  watchSilenceMs: config.watchSilenceMs,
  resyncIntervalMs: config.resyncIntervalMs,
  backoff: { baseDelayMs: 500, maxDelayMs: 60_000 },
  workers: 2,
  events: new EventRecorder({ api, log, instance: identity }),
});

let leading = !config.leaderElection;
const elector = config.leaderElection
  ? new LeaderElector(
      api,
      {
        namespace: config.operator.operatorNamespace,
        name: config.leaseName,
        identity,
        leaseDurationMs: config.lease.durationMs,
        renewDeadlineMs: config.lease.renewDeadlineMs,
        retryPeriodMs: config.lease.retryPeriodMs,
        onStartedLeading: () => {
          leading = true;
          metrics.leader.set(1);
          controller.start().catch((err: unknown) => {
            log.fatal({ err }, 'controller failed to start');
            process.exit(1);
          });
        },
        onStoppedLeading: () => {
          metrics.leader.set(0);
          if (!shuttingDown) {
            // Another replica may already be acting; stop at once and let the Deployment restart us as a candidate.
            log.error('leadership lost; exiting');
            process.exit(1);
          }
        },
      },
      log,
    )
  : undefined;

const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    metrics.registry
      .metrics()
      .then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      })
      .catch((err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    return;
  }
  if (req.url === '/healthz') {
    res.writeHead(200);
    res.end('ok');
    return;
  }
  if (req.url === '/readyz') {
    // A standby replica is ready too: it is a healthy candidate.
    res.writeHead(200);
    res.end(leading ? 'leader' : 'standby');
    return;
  }
  res.writeHead(404);
  res.end();
});
server.listen(config.metricsPort, () => log.info({ port: config.metricsPort }, 'metrics and health endpoint listening'));

let shuttingDown = false;
async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info('stopping');
  // Every API call has a deadline, but stopping must not depend on that: past this, exit anyway (the lease expires).
  setTimeout(() => {
    log.warn({ afterMs: config.shutdownTimeoutMs }, 'stopping took too long; exiting');
    process.exit(0);
  }, config.shutdownTimeoutMs).unref();
  await controller.stop();
  await elector?.stop();
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

if (elector) elector.start();
else {
  metrics.leader.set(1);
  await controller.start();
}
