// /demo/<room>: a video room on the unmodified Fishjam web SDK. Opening the page joins the room with camera and
// microphone under a remembered (or ?name=) display name; every other participant gets a tile with their video,
// name, muted state and voice activity (the server's VAD notifications). The peer token comes from this node's demo
// endpoint: the page never sees the server API token.
import { FishjamClient, type Peer, type TrackContext } from '@fishjam-dev/ts-client';
import { byId, decorateHeader, el, randomId, requestDemoPeer, signalingOfThisNode } from './page-common.js';

interface PeerMeta {
  name?: string;
}
interface TrackMeta {
  kind?: string;
  muted?: boolean;
}
type Client = FishjamClient<PeerMeta, TrackMeta>;

interface RemoteTile {
  readonly root: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly audio: HTMLAudioElement;
  readonly label: HTMLElement;
  readonly mutedIcon: HTMLElement;
  readonly placeholder: HTMLElement;
  name: string;
}

const NAME_KEY = 'fishjam.demo.name';
const roomName = decodeURIComponent(location.pathname.split('/')[2] ?? '');
const tiles = new Map<string, RemoteTile>();
let client: Client | undefined;
let localStream: MediaStream | undefined;
const localTrackIds = new Map<string, string>(); // kind -> SDK track id
let joined = false;

const status = (text: string, error = false) => {
  const box = byId('status');
  box.textContent = text;
  box.classList.toggle('error', error);
};

function displayName(): string {
  const input = byId<HTMLInputElement>('display-name');
  return input.value.trim().slice(0, 40) || 'Guest';
}

function initialName(): string {
  const fromUrl = new URLSearchParams(location.search).get('name');
  return (fromUrl ?? localStorage.getItem(NAME_KEY) ?? `Guest ${randomId(2)}`).slice(0, 40);
}

function nameOf(peer: { metadata?: PeerMeta | undefined }): string {
  const n = peer.metadata?.name;
  return typeof n === 'string' && n.trim() ? n.trim().slice(0, 40) : 'Guest';
}

function updateCount(): void {
  const others = tiles.size;
  byId('peer-count').textContent = joined ? (others === 0 ? 'Only you so far: share the link' : `You and ${others} other${others === 1 ? '' : 's'}`) : '';
}


function ensureTile(peerId: string, name: string): RemoteTile {
  let tile = tiles.get(peerId);
  if (tile) return tile;
  const video = el('video', { playsinline: '', autoplay: '', 'aria-label': `Video of ${name}` });
  video.muted = true; // sound plays from the audio element: a muted video may autoplay without a click
  const audio = el('audio', { autoplay: '' });
  const mutedIcon = el('span', { 'aria-label': 'microphone muted', title: 'microphone muted' }, '🔇');
  mutedIcon.hidden = true;
  const label = el('span', { class: 'peer-name' }, name);
  const placeholder = el('div', { class: 'placeholder', 'aria-hidden': 'true' }, initials(name));
  const root = el('figure', { class: 'tile remote', 'data-peer-id': peerId, 'aria-label': name }, placeholder, video, audio, el('figcaption', { class: 'name' }, mutedIcon, label));
  video.hidden = true;
  byId('tiles').append(root);
  tile = { root, video, audio, label, mutedIcon, placeholder, name };
  tiles.set(peerId, tile);
  updateCount();
  return tile;
}

function initials(name: string): string {
  return name.split(/\s+/).map((w) => w[0] ?? '').join('').slice(0, 2).toUpperCase() || '?';
}

function renameTile(peerId: string, name: string): void {
  const tile = tiles.get(peerId);
  if (!tile) return;
  tile.name = name;
  tile.label.textContent = name;
  tile.placeholder.textContent = initials(name);
  tile.root.setAttribute('aria-label', name);
  tile.video.setAttribute('aria-label', `Video of ${name}`);
}

function removeTile(peerId: string): void {
  const tile = tiles.get(peerId);
  if (!tile) return;
  tile.video.srcObject = null;
  tile.audio.srcObject = null;
  tile.root.remove();
  tiles.delete(peerId);
  updateCount();
}

function playAudio(audio: HTMLAudioElement): void {
  audio.play().catch(() => {
    // Autoplay with sound needs a user gesture in most browsers: offer one.
    byId('sound-notice').hidden = false;
  });
}

function onTrackReady(ctx: TrackContext<PeerMeta, TrackMeta>): void {
  if (!ctx.track) return;
  const tile = ensureTile(ctx.endpoint.id, nameOf(ctx.endpoint));
  if (ctx.track.kind === 'video') {
    tile.video.srcObject = new MediaStream([ctx.track]);
    tile.video.hidden = false;
    tile.placeholder.hidden = true;
    void tile.video.play().catch(() => undefined);
  } else {
    tile.audio.srcObject = new MediaStream([ctx.track]);
    playAudio(tile.audio);
    tile.mutedIcon.hidden = !ctx.metadata?.muted;
    const showVad = (c: TrackContext<PeerMeta, TrackMeta>) => tile.root.classList.toggle('speaking', c.vadStatus === 'speech');
    ctx.on('voiceActivityChanged', showVad);
    showVad(ctx);
  }
}

function onTrackRemoved(ctx: TrackContext<PeerMeta, TrackMeta>): void {
  const tile = tiles.get(ctx.endpoint.id);
  if (!tile) return;
  if (ctx.track?.kind === 'video' || ctx.metadata?.kind === 'video') {
    tile.video.srcObject = null;
    tile.video.hidden = true;
    tile.placeholder.hidden = false;
  } else {
    tile.audio.srcObject = null;
    tile.root.classList.remove('speaking');
  }
}

async function startLocalMedia(): Promise<MediaStream | undefined> {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  } catch (error) {
    status(`No camera or microphone (${(error as Error).message}): you can still see and hear the others.`, true);
    return undefined;
  }
}

function showLocal(stream: MediaStream | undefined): void {
  const existing = document.getElementById('tile-local');
  existing?.remove();
  const video = el('video', { playsinline: '', autoplay: '', 'aria-label': 'Your camera' });
  video.muted = true;
  if (stream) video.srcObject = stream;
  const root = el('figure', { class: 'tile local', id: 'tile-local', 'aria-label': 'You' }, video, el('figcaption', { class: 'name' }, el('span', { id: 'local-label' }, `${displayName()} (you)`)));
  byId('tiles').prepend(root);
}

async function join(): Promise<void> {
  byId('leave').hidden = false;
  byId('rejoin').hidden = true;
  status('Joining…');
  let token: string;
  try {
    token = (await requestDemoPeer(roomName)).token;
  } catch (error) {
    status(`Could not join: ${(error as Error).message}`, true);
    byId('rejoin').hidden = false;
    byId('leave').hidden = true;
    return;
  }
  const c: Client = new FishjamClient<PeerMeta, TrackMeta>();
  client = c;
  c.on('joined', (_id, peers) => {
    joined = true;
    for (const p of peers) ensureTile(p.id, nameOf(p));
    updateCount();
    status('Connected.');
    void publish(c);
  });
  c.on('joinError', () => status('The room refused this peer (is it full?).', true));
  c.on('authError', (reason) => status(`Authentication failed: ${reason}`, true));
  c.on('peerJoined', (p: Peer<PeerMeta, TrackMeta>) => ensureTile(p.id, nameOf(p)));
  c.on('peerUpdated', (p: Peer<PeerMeta, TrackMeta>) => renameTile(p.id, nameOf(p)));
  c.on('peerLeft', (p: Peer<PeerMeta, TrackMeta>) => removeTile(p.id));
  c.on('trackReady', onTrackReady);
  c.on('trackRemoved', onTrackRemoved);
  c.on('trackUpdated', (ctx) => {
    const tile = tiles.get(ctx.endpoint.id);
    if (tile && ctx.metadata?.kind === 'audio') tile.mutedIcon.hidden = !ctx.metadata.muted;
  });
  c.on('connectionError', (message) => status(`Media connection failed: ${message}. Try the connection check at /check.`, true));
  c.on('socketClose', () => {
    if (client === c && joined) status('Disconnected from the server.', true);
  });
  c.connect({ token, peerMetadata: { name: displayName() }, signaling: signalingOfThisNode() });
}

async function publish(c: Client): Promise<void> {
  localStream ??= await startLocalMedia();
  showLocal(localStream);
  if (!localStream || client !== c) return;
  for (const track of localStream.getTracks()) {
    const id = await c.addTrack(track, localStream, { kind: track.kind, muted: !track.enabled });
    localTrackIds.set(track.kind, id);
  }
}

function leave(): void {
  joined = false;
  client?.disconnect();
  client = undefined;
  localTrackIds.clear();
  for (const id of [...tiles.keys()]) removeTile(id);
  for (const t of localStream?.getTracks() ?? []) t.stop();
  localStream = undefined;
  document.getElementById('tile-local')?.remove();
  updateCount();
  status('You left the room.');
  byId('leave').hidden = true;
  byId('rejoin').hidden = false;
  byId('rejoin').focus();
}

function toggle(kind: 'audio' | 'video', button: HTMLButtonElement, onText: string, offText: string): void {
  const track = localStream?.getTracks().find((t) => t.kind === kind);
  if (!track) return;
  // A disabled track sends silence or black frames: nothing needs renegotiating, and the metadata tells the others.
  track.enabled = !track.enabled;
  button.setAttribute('aria-pressed', String(!track.enabled));
  button.textContent = track.enabled ? onText : offText;
  const id = localTrackIds.get(kind);
  if (id) client?.updateTrackMetadata(id, { kind, muted: !track.enabled });
}

function main(): void {
  void decorateHeader();
  byId('room-name').textContent = roomName;
  document.title = `${roomName} · Fishjam demo`;
  const nameInput = byId<HTMLInputElement>('display-name');
  nameInput.value = initialName();
  nameInput.addEventListener('change', () => {
    localStorage.setItem(NAME_KEY, displayName());
    client?.updatePeerMetadata({ name: displayName() });
    const label = document.getElementById('local-label');
    if (label) label.textContent = `${displayName()} (you)`;
  });
  const share = byId<HTMLInputElement>('share-link');
  share.value = `${location.origin}/demo/${encodeURIComponent(roomName)}`;
  byId('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(share.value);
      byId('copy-link').textContent = 'Copied';
    } catch {
      share.select(); // no clipboard permission: leave the link selected for Ctrl+C
    }
    setTimeout(() => (byId('copy-link').textContent = 'Copy link'), 1500);
  });
  byId<HTMLButtonElement>('toggle-mic').addEventListener('click', (e) => toggle('audio', e.currentTarget as HTMLButtonElement, 'Mute microphone', 'Unmute microphone'));
  byId<HTMLButtonElement>('toggle-camera').addEventListener('click', (e) => toggle('video', e.currentTarget as HTMLButtonElement, 'Turn camera off', 'Turn camera on'));
  byId('leave').addEventListener('click', leave);
  byId('rejoin').addEventListener('click', () => void join());
  byId('enable-sound').addEventListener('click', () => {
    for (const t of tiles.values()) void t.audio.play().catch(() => undefined);
    byId('sound-notice').hidden = true;
  });
  window.addEventListener('pagehide', () => client?.disconnect());
  void join();
}

main();
