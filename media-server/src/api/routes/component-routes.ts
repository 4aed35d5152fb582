// /room/:room_id/component: thin translation between HTTP and the RoomService (which checks, in the original's
// order, and runs components on the room's node).
import type Router from '@koa/router';
import type { RoomService } from '../../rooms/room-service.js';
import { readJsonObject } from '../json-body.js';

export function mountComponentRoutes(router: Router, rooms: RoomService): void {
  router.post('/room/:room_id/component', async (ctx) => {
    const component = await rooms.addComponent(ctx.params.room_id!, await readJsonObject(ctx));
    ctx.status = 201;
    ctx.body = { data: component };
  });

  router.delete('/room/:room_id/component/:id', async (ctx) => {
    await rooms.removeComponent(ctx.params.room_id!, ctx.params.id!);
    ctx.status = 204;
  });

  router.post('/room/:room_id/component/:component_id/subscribe', async (ctx) => {
    await rooms.subscribeComponent(ctx.params.room_id!, ctx.params.component_id!, await readJsonObject(ctx));
    // The original answers this one in plain text, not JSON.
    ctx.status = 201;
    ctx.type = 'text/plain';
    ctx.body = 'Successfully subscribed for tracks';
  });

  router.post('/sip/:room_id/:component_id/call', async (ctx) => {
    const phoneNumber = await rooms.dialSip(ctx.params.room_id!, ctx.params.component_id!, await readJsonObject(ctx));
    // As the original: plain text; the call is set up afterwards.
    ctx.status = 201;
    ctx.type = 'text/plain';
    ctx.body = `Successfully schedule calling phone_number: ${phoneNumber}`;
  });

  router.delete('/sip/:room_id/:component_id/call', async (ctx) => {
    await rooms.endSipCall(ctx.params.room_id!, ctx.params.component_id!);
    // 204 as the original's code and its test (its openapi says 201)
    ctx.status = 204;
  });
}
