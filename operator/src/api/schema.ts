// The OpenAPI v3 schema of FishjamCluster, written once: the CRD is generated from it (tools/write-manifests.ts) and
// the operator checks specs against it (schema-check.ts) before its cross-field rules (validate.ts).

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema;
  enum?: (string | number)[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
}

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
const ENV_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';

const str = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'string', description, ...extra });
const int = (description: string, minimum: number, maximum: number): JsonSchema => ({
  type: 'integer',
  description,
  minimum,
  maximum,
});
const port = (description: string): JsonSchema => int(description, 1, 65535);
const bool = (description: string): JsonSchema => ({ type: 'boolean', description });
const stringMap = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

const secretKeyRef = (description: string): JsonSchema => ({
  type: 'object',
  description,
  required: ['name'],
  properties: {
    name: str('Secret name in the cluster namespace.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }),
    key: str('Key in the Secret.', { minLength: 1, maxLength: 253 }),
  },
});

const labelSelector: JsonSchema = {
  type: 'object',
  properties: {
    matchLabels: stringMap('Labels to match.'),
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

const peers = (description: string): JsonSchema => ({
  type: 'array',
  description,
  items: {
    type: 'object',
    properties: {
      podSelector: labelSelector,
      namespaceSelector: labelSelector,
      ipBlock: {
        type: 'object',
        required: ['cidr'],
        properties: {
          cidr: str('CIDR, e.g. 10.0.0.0/8.', { pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$' }),
          except: { type: 'array', items: { type: 'string', pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$' } },
        },
      },
    },
  },
});

// The shape controller-gen gives resource.Quantity: int or string, the pattern applying to strings.
const quantity: JsonSchema = {
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: '^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$',
  'x-kubernetes-int-or-string': true,
};

export const specSchema: JsonSchema = {
  type: 'object',
  description: 'Desired state of a cluster of Fishjam-compatible media nodes.',
  properties: {
    replicas: int('Number of media nodes. Scale-down drains the highest ordinal first.', 0, 100),
    image: str('Media server image; the operator default when absent.', { minLength: 1 }),
    imagePullPolicy: str('Pull policy of the media container.', { enum: ['Always', 'IfNotPresent', 'Never'] }),
    imagePullSecrets: {
      type: 'array',
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
    },
    resources: {
      type: 'object',
      description: 'CPU and memory of each media pod. The whole CPUs of the limit (else request) set the worker count.',
      properties: {
        requests: { type: 'object', additionalProperties: quantity },
        limits: { type: 'object', additionalProperties: quantity },
      },
    },
    workers: int('mediasoup workers per pod (FJ_WORKERS); one WebRTC port each.', 1, 64),
    apiTokenSecretRef: secretKeyRef('Secret holding FJ_SERVER_API_TOKEN (key "token" by default). Generated when absent.'),
    secretKeyBaseSecretRef: secretKeyRef(
      'Secret holding FJ_SECRET_KEY_BASE, shared by all nodes (key "secretKeyBase"). Generated when absent.',
    ),
    httpPort: port('FJ_PORT: REST API, peer websocket, /livez and /readyz.'),
    dist: {
      type: 'object',
      description: 'Distribution (node-to-node) settings. Discovery is always DNS on the headless Service.',
      properties: {
        cookieSecretRef: secretKeyRef('Secret holding FJ_DIST_COOKIE (key "cookie"). Generated when absent.'),
        port: port('FJ_DIST_MIN_PORT = FJ_DIST_MAX_PORT: the dist listener.'),
        portMapperPort: port('Port mapper port (4369).'),
        pollingIntervalMs: int('FJ_DIST_POLLING_INTERVAL: DNS discovery period.', 100, 600000),
        clusterDomain: str('Cluster DNS domain used in FJ_DIST_QUERY.', { pattern: DNS_SUBDOMAIN }),
        tls: {
          type: 'object',
          description: 'TLS for dist traffic from a Secret with tls.crt, tls.key and ca.crt.',
          required: ['secretName'],
          properties: { secretName: str('Secret name.', { pattern: DNS_SUBDOMAIN, maxLength: 253 }) },
        },
      },
    },
    exposure: {
      type: 'object',
      description: 'How clients reach each pod (REST redirects and WebRTC).',
      properties: {
        mode: str(
          'PodNetwork (default): pods on the pod network behind one cluster-wide TURN Service. HostNetwork: pods use their node\'s network and IP. ServicePerPod: one Service per pod.',
          { enum: ['PodNetwork', 'HostNetwork', 'ServicePerPod'] },
        ),
        podCidrs: {
          type: 'array',
          description: 'PodNetwork (required there): the cluster\'s pod network CIDRs (IPv4, e.g. 10.244.0.0/16); the TURN servers relay only to these.',
          maxItems: 16,
          items: str('An IPv4 CIDR.', { pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$', maxLength: 18 }),
        },
        turn: {
          type: 'object',
          description: 'PodNetwork: the Service <name>-turn in front of every pod\'s TURN port, and the address clients are told.',
          properties: {
            address: str('FJ_WEBRTC_TURN_IP: the TURN Service\'s external IP or DNS name; default its in-cluster DNS name.', {
              pattern: '^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$',
              maxLength: 253,
            }),
            serviceType: str('Service type of the TURN Service.', { enum: ['LoadBalancer', 'ClusterIP'] }),
            annotations: stringMap('Annotations of the TURN Service (cloud load balancer settings).'),
            externalTrafficPolicy: str('Keeps client addresses with Local.', { enum: ['Local', 'Cluster'] }),
            loadBalancerClass: str('loadBalancerClass of the TURN Service.', { minLength: 1 }),
            secretRef: secretKeyRef('The TURN secret shared by every pod (key default "secret"); generated when absent.'),
          },
        },
        hostTemplate: str(
          'FJ_HOST of each pod; may use $(POD_NAME), $(POD_IP), $(HOST_IP), $(POD_NAMESPACE). Required for ServicePerPod.',
          { minLength: 1 },
        ),
        announcedAddressTemplate: str(
          'FJ_WEBRTC_ANNOUNCED_IP for ServicePerPod (IP or DNS name, same variables). Required for ServicePerPod.',
          { minLength: 1 },
        ),
        servicePerPod: {
          type: 'object',
          properties: {
            type: str('Service type of the per-pod Services.', { enum: ['LoadBalancer', 'ClusterIP'] }),
            annotations: stringMap('Annotations of each per-pod Service (cloud load balancer settings).'),
            externalTrafficPolicy: str('Keeps client addresses with Local.', { enum: ['Local', 'Cluster'] }),
            loadBalancerClass: str('loadBalancerClass of the per-pod Services.', { minLength: 1 }),
          },
        },
      },
      'x-kubernetes-validations': [
        {
          rule: "!has(self.mode) || self.mode != 'ServicePerPod' || (has(self.hostTemplate) && has(self.announcedAddressTemplate))",
          message: 'ServicePerPod needs hostTemplate and announcedAddressTemplate',
        },
        {
          rule: "(has(self.mode) && self.mode != 'PodNetwork') || (has(self.podCidrs) && size(self.podCidrs) > 0)",
          message: 'PodNetwork (the default mode) needs podCidrs, the cluster\'s pod network',
        },
      ],
    },
    webrtc: {
      type: 'object',
      description: 'WebRTC ports: one UDP+TCP port per worker, from minPort; and the TURN port clients connect to.',
      properties: {
        minPort: port('FJ_WEBRTC_MIN_PORT.'),
        maxPort: port('FJ_WEBRTC_MAX_PORT; default minPort + workers - 1.'),
        turnPort: port('FJ_WEBRTC_TURN_PORT: the integrated TURN server (UDP and TCP) clients reach; default 3478.'),
      },
      'x-kubernetes-validations': [
        { rule: '!has(self.minPort) || !has(self.maxPort) || self.maxPort >= self.minPort', message: 'maxPort < minPort' },
      ],
    },
    networkPolicy: {
      type: 'object',
      description: 'NetworkPolicies for pod-network mode (ignored by hostNetwork pods).',
      properties: {
        enabled: bool('Create NetworkPolicies (default true).'),
        apiFrom: peers('Who may reach the REST API and websockets; empty = anywhere.'),
        mediaFrom: peers('Who may send WebRTC media; empty = anywhere.'),
        metricsFrom: peers('Who may scrape metrics besides the operator; default any pod in the cluster.'),
      },
    },
    metrics: {
      type: 'object',
      properties: {
        port: port('FJ_METRICS_PORT.'),
        serviceMonitor: {
          type: 'object',
          description: 'A prometheus-operator ServiceMonitor for the media pods.',
          properties: {
            enabled: bool('Create the ServiceMonitor (needs the monitoring.coreos.com CRDs).'),
            interval: str('Scrape interval.', { pattern: '^[0-9]+(ms|s|m|h)$' }),
            labels: stringMap('Extra labels, e.g. the release label your Prometheus selects.'),
          },
        },
      },
    },
    podDisruptionBudget: {
      type: 'object',
      properties: {
        enabled: bool('Create a PodDisruptionBudget (default true).'),
        maxUnavailable: int('Pods that may be evicted at once.', 1, 100),
      },
    },
    drainTimeoutSeconds: int('FJ_DRAIN_TIMEOUT; the pod grace period adds a margin.', 0, 86400),
    nodeSelector: stringMap('Node selector of the media pods.'),
    tolerations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'string' },
          operator: { type: 'string', enum: ['Exists', 'Equal'] },
          value: { type: 'string' },
          effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
          tolerationSeconds: { type: 'integer' },
        },
      },
    },
    affinity: { type: 'object', description: 'Pod affinity (as in a pod spec).', 'x-kubernetes-preserve-unknown-fields': true },
    podLabels: stringMap('Extra pod labels.'),
    podAnnotations: stringMap('Extra pod annotations.'),
    env: {
      type: 'array',
      description: 'Extra environment of the media container; variables the operator sets are refused.',
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: str('Variable name.', { pattern: ENV_NAME }),
          value: { type: 'string' },
          valueFrom: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    },
    logLevel: str('FJ_LOG_LEVEL.', { enum: ['debug', 'info', 'warning', 'error'] }),
  },
};

const condition: JsonSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string' },
    message: { type: 'string' },
    observedGeneration: { type: 'integer' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

export const statusSchema: JsonSchema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer' },
    replicas: { type: 'integer' },
    selector: { type: 'string' },
    readyNodes: { type: 'integer' },
    nodesSummary: { type: 'string' },
    drainingNodes: { type: 'array', items: { type: 'string' } },
    rooms: { type: 'integer' },
    peers: { type: 'integer' },
    forwardedTracks: { type: 'integer' },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'ordinal', 'ready', 'draining'],
        properties: {
          name: { type: 'string' },
          ordinal: { type: 'integer' },
          podIP: { type: 'string' },
          ready: { type: 'boolean' },
          draining: { type: 'boolean' },
          rooms: { type: 'integer' },
          peers: { type: 'integer' },
          forwardedTracks: { type: 'integer' },
          error: { type: 'string' },
        },
      },
    },
    scaleDown: {
      type: 'object',
      required: ['ordinal', 'startedAt'],
      properties: { ordinal: { type: 'integer' }, startedAt: { type: 'string', format: 'date-time' } },
    },
    conditions: {
      type: 'array',
      items: condition,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
  },
};
