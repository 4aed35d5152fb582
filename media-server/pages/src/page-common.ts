// What every built-in page shares: element lookup, a small element builder, and the node's public page info.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** Builds an element; text goes in as text (never as HTML), so names typed by other users cannot inject markup. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

export interface PageInfo {
  /** null in production mode (page-access.ts) */
  node: string | null;
  version: string | null;
  mode: string;
  clustered: boolean;
  pages: string[];
  /** the development default token, only when the node runs with it (never a token the operator set) */
  prefillToken: string | null;
}

export async function pageInfo(): Promise<PageInfo> {
  const res = await fetch('/pages-api/info', { cache: 'no-store' });
  if (!res.ok) throw new Error(`page info: HTTP ${res.status}`);
  return (await res.json()) as PageInfo;
}

/** Fills the header's node chip and hides links to pages this node does not serve. */
export async function decorateHeader(): Promise<PageInfo | undefined> {
  try {
    const info = await pageInfo();
    const chip = document.getElementById('node-chip');
    if (chip) {
      // production nodes do not name themselves on a public page (page-access.ts)
      chip.textContent = info.node === null ? info.mode : `${info.node} · ${info.mode}`;
      chip.title = info.node === null ? `${info.mode} mode` : `node ${info.node}, version ${info.version ?? '?'}, ${info.mode} mode`;
    }
    for (const link of document.querySelectorAll<HTMLElement>('[data-page]')) {
      if (!info.pages.includes(link.dataset.page!)) link.hidden = true;
    }
    return info;
  } catch {
    return undefined;
  }
}

export interface DemoPeer {
  roomId: string;
  peerId: string;
  token: string;
}

/** Asks this node for a peer in demo room `room` (the node creates the room if needed; it never shares its token). */
export async function requestDemoPeer(room: string): Promise<DemoPeer> {
  const res = await fetch('/pages-api/demo/peer', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room }),
  });
  const body = (await res.json().catch(() => ({}))) as { data?: DemoPeer; errors?: string };
  if (!res.ok || !body.data) throw new Error(body.errors ?? `HTTP ${res.status}`);
  return body.data;
}

/** Where the SDK opens its peer socket: this node (any node of a cluster forwards it to the room's node). */
export function signalingOfThisNode(): { host: string; protocol: string } {
  return { host: location.host, protocol: location.protocol === 'https:' ? 'wss' : 'ws' };
}

export function randomId(bytes = 4): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
