// The CustomResourceDefinition, built from schema.ts. crds/fishjamcluster.yaml is this object as YAML
// (tools/write-manifests.ts writes it, test/manifests.test.ts checks the copy is current).
import { specSchema, statusSchema } from './schema.js';
import { GROUP, KIND, PLURAL, VERSION } from './types.js';

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'fishjamcluster', shortNames: ['fjc'], categories: ['fishjam'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Nodes', type: 'string', jsonPath: '.status.nodesSummary', description: 'ready/desired media nodes' },
            { name: 'Rooms', type: 'integer', jsonPath: '.status.rooms' },
            { name: 'Peers', type: 'integer', jsonPath: '.status.peers' },
            { name: 'Draining', type: 'string', jsonPath: '.status.drainingNodes', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'A cluster of Fishjam-compatible media nodes managed by the fishjam operator.',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: specSchema,
                status: statusSchema,
              },
            },
          },
        },
      ],
    },
  };
}
