// GET /openapi.json: Fishjam 0.6.3's API description (what our responses follow), plus the endpoints we add.
import type Router from '@koa/router';
import fishjam from '../openapi/fishjam-0.6.3.json' with { type: 'json' };

const plain = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });

export function openApiDocument(version: string): Record<string, unknown> {
  const doc = structuredClone(fishjam) as Record<string, any>;
  doc.info = { ...doc.info, title: 'Fishjam-compatible media server (TypeScript)', version, 'x-fishjam-api-version': '0.6.3' };
  doc.paths = {
    ...doc.paths,
    '/livez': { get: { operationId: 'livez', security: [], responses: { '200': plain('The process is alive') } } },
    '/readyz': {
      get: { operationId: 'readyz', security: [], responses: { '200': plain('Serving'), '503': plain('Starting, draining or stopping') } },
    },
    '/admin/drain': {
      post: {
        operationId: 'drain',
        summary: 'Stop placing rooms on this node; exit when its rooms have ended or FJ_DRAIN_TIMEOUT passed',
        security: [{ authorization: [] }],
        responses: { '202': plain('Draining'), '401': plain('Unauthorized') },
      },
    },
  };
  return doc;
}

export function mountOpenApiRoute(router: Router, version: string): void {
  const doc = openApiDocument(version);
  router.get('/openapi.json', (ctx) => {
    ctx.body = doc;
  });
}
