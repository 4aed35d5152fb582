// POST /admin/drain: the same drain as SIGTERM, for a Kubernetes preStop hook or an operator.
import type Router from '@koa/router';

export function mountAdminRoutes(router: Router, startDrain: () => void, describe: () => { status: string; rooms: number }): void {
  router.post('/admin/drain', (ctx) => {
    startDrain();
    ctx.status = 202;
    ctx.body = { data: describe() };
  });
  router.get('/admin/drain', (ctx) => {
    ctx.body = { data: describe() };
  });
}
