// /room and /room/:room_id/peer: thin translation between HTTP and the RoomService.
import type Router from '@koa/router';
import type { RoomService } from '../../rooms/room-service.js';
import { readJsonObject } from '../json-body.js';

export function mountRoomRoutes(router: Router, rooms: RoomService): void {
  router.get('/room', async (ctx) => {
    ctx.body = { data: await rooms.listRooms() };
  });

  router.post('/room', async (ctx) => {
    const created = await rooms.createRoom(await readJsonObject(ctx));
    ctx.status = 201;
    ctx.body = { data: { room: created.room, fishjam_address: created.fishjamAddress } };
  });

  router.get('/room/:room_id', async (ctx) => {
    ctx.body = { data: await rooms.getRoom(ctx.params.room_id!) };
  });

  router.delete('/room/:room_id', async (ctx) => {
    await rooms.deleteRoom(ctx.params.room_id!);
    ctx.status = 204;
  });

  router.post('/room/:room_id/peer', async (ctx) => {
    const created = await rooms.addPeer(ctx.params.room_id!, await readJsonObject(ctx));
    ctx.status = 201;
    ctx.body = { data: { peer: created.peer, token: created.token, peer_websocket_url: created.peerWebsocketUrl } };
  });

  router.delete('/room/:room_id/peer/:id', async (ctx) => {
    await rooms.removePeer(ctx.params.room_id!, ctx.params.id!);
    ctx.status = 204;
  });
}
