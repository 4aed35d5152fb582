// /cluster: the cluster as this node sees it, polled every second from /pages-api/cluster with the server API token
// the user typed (kept in this tab's sessionStorage; pre-filled only with the development default token).
import { byId, decorateHeader, el } from './page-common.js';

interface NodeRow {
  node: string;
  host: string;
  state: string;
  rooms: number;
  peers: number;
  forwardedTracks: number;
  cpu: number;
  self: boolean;
}
interface RoomRow {
  id: string;
  node: string;
  peers: Array<{ id: string; name: string | null; status: string; tracks: number }>;
}
interface Overview {
  self: string;
  clustered: boolean;
  nodes: NodeRow[];
  rooms: RoomRow[];
  unlisted: string[];
  truncated: string[];
  nextNode?: string;
  at: number;
}

const TOKEN_KEY = 'fishjam.serverToken';
const POLL_MS = 1000;
let timer: number | undefined;
let inFlight = false;

function showForm(error?: string): void {
  if (timer !== undefined) clearInterval(timer);
  timer = undefined;
  byId('view').hidden = true;
  byId('token-form').hidden = false;
  const box = byId('token-error');
  box.hidden = !error;
  box.textContent = error ?? '';
  byId<HTMLInputElement>('token').focus();
}

function startPolling(): void {
  byId('token-form').hidden = true;
  byId('view').hidden = false;
  void poll();
  timer = window.setInterval(() => void poll(), POLL_MS);
}

async function poll(): Promise<void> {
  if (inFlight) return; // a slow answer is not stacked on by the next tick
  inFlight = true;
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  try {
    const res = await fetch('/pages-api/cluster', { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showForm('This node did not accept that token.');
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    render(((await res.json()) as { data: Overview }).data);
    byId('view-error').hidden = true;
  } catch (error) {
    const box = byId('view-error');
    box.hidden = false;
    box.textContent = `Cannot reach this node (${(error as Error).message}); retrying.`;
  } finally {
    inFlight = false;
  }
}

function stateBadge(state: string): HTMLElement {
  const cls = state === 'SERVING' ? 'serving' : state === 'DRAINING' ? 'draining' : 'other';
  return el('span', { class: `badge ${cls}` }, state);
}

function render(o: Overview): void {
  const sum = (k: 'rooms' | 'peers' | 'forwardedTracks') => o.nodes.reduce((n, r) => n + r[k], 0);
  const stat = (id: string, label: string, value: string, valueClass = 'value') => el('div', { class: 'card stat', id }, el('div', { class: 'label' }, label), el('div', { class: valueClass }, value));
  byId('totals').replaceChildren(
    stat('total-nodes', 'Nodes', String(o.nodes.length)),
    stat('total-rooms', 'Rooms', String(sum('rooms'))),
    stat('total-peers', 'Peers', String(sum('peers'))),
    stat('total-tracks', 'Forwarded tracks', String(sum('forwardedTracks'))),
    stat('next-node', 'Next room goes to', o.nextNode ?? 'no node accepts rooms', 'value small-value'),
  );
  byId('nodes').replaceChildren(
    ...o.nodes.map((n) => {
      const cpu = Math.max(0, Math.min(1, n.cpu));
      const bar = el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span'));
      (bar.firstElementChild as HTMLElement).style.width = `${Math.round(cpu * 100)}%`;
      const name = el('td', {}, n.node);
      if (n.self) name.append(' ', el('span', { class: 'muted' }, '(this node)'));
      if (n.node === o.nextNode) name.append(' ', el('span', { class: 'badge next' }, 'next'));
      return el('tr', { 'data-node': n.node }, name, el('td', {}, el('code', {}, n.host)), el('td', {}, stateBadge(n.state)), el('td', { class: 'num', 'data-field': 'rooms' }, String(n.rooms)), el('td', { class: 'num' }, String(n.peers)), el('td', { class: 'num' }, String(n.forwardedTracks)), el('td', {}, bar, `${Math.round(cpu * 100)}%`));
    }),
  );
  byId('rooms').replaceChildren(
    ...(o.rooms.length === 0
      ? [el('tr', {}, el('td', { colspan: '4', class: 'muted' }, 'No rooms yet. Open the demo to create one.'))]
      : o.rooms.map((r) =>
          el('tr', { 'data-room': r.id }, el('td', {}, el('code', {}, r.id)), el('td', {}, r.node), el('td', { class: 'num' }, String(r.peers.length)), el('td', {}, r.peers.map((p) => `${p.name ?? p.id.slice(0, 8)}${p.status === 'connected' ? '' : ' (away)'}`).join(', ') || '—')),
        )),
  );
  const notes: string[] = [];
  if (o.unlisted.length) notes.push(`Rooms of ${o.unlisted.join(', ')} did not arrive in time.`);
  if (o.truncated.length) notes.push(`Only the first rooms of ${o.truncated.join(', ')} are shown.`);
  byId('rooms-note').textContent = notes.join(' ');
  const updated = byId('updated');
  updated.replaceChildren(el('span', { class: 'live-dot', 'aria-hidden': 'true' }), `Live · updated ${new Date(o.at).toLocaleTimeString()}`);
}

async function main(): Promise<void> {
  const info = await decorateHeader();
  const input = byId<HTMLInputElement>('token');
  byId('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    startPolling();
  });
  byId('forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    input.value = '';
    showForm();
  });
  if (sessionStorage.getItem(TOKEN_KEY)) return startPolling();
  if (info?.prefillToken) {
    // development mode with the default token: nothing to keep secret, so show the cluster straight away
    input.value = info.prefillToken;
    sessionStorage.setItem(TOKEN_KEY, info.prefillToken);
    return startPolling();
  }
  showForm();
}

void main();
