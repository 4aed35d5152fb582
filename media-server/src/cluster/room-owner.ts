// Generated room ids carry their owner's node name (as Fishjam's routing mode does): `<uuid>-<hex of node name>`, so
// any node can tell which node holds a room without asking. Ids chosen by clients are kept as given. Pure.
const GENERATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-((?:[0-9a-f]{2})+)$/;

export function generatedRoomId(uuid: string, ownerNodeName: string): string {
  return `${uuid}-${Buffer.from(ownerNodeName, 'utf8').toString('hex')}`;
}

/** The owner encoded in a generated id, or undefined for ids chosen by clients. */
export function ownerOfRoomId(roomId: string): string | undefined {
  const match = GENERATED.exec(roomId);
  if (!match) return undefined;
  const name = Buffer.from(match[1]!, 'hex').toString('utf8');
  return /^[A-Za-z0-9_-]+@[^@\s]+$/.test(name) ? name : undefined;
}
