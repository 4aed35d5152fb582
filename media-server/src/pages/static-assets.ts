// The built pages (media-server/pages -> dist/public at `npm run build`), read into memory once at start-up.
// Requests are answered from that map by exact name, never by joining a request path onto a directory: no request
// can reach a file that was not in the build output (no traversal, no symlinks, no dotfiles), and a request costs no
// disk access.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** Names an asset may have: one path segment of plain characters (what the build writes). */
export const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

/** Every file of known type directly in `dir` and in `dir`/assets, keyed "index.html", "assets/demo.js", ...; an
 *  absent directory (pages not built) gives an empty map. */
export function loadStaticAssets(dir: string): ReadonlyMap<string, StaticAsset> {
  const out = new Map<string, StaticAsset>();
  for (const sub of ['', 'assets']) {
    const folder = path.join(dir, sub);
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const contentType = TYPES[path.extname(name)];
      if (!contentType || !ASSET_NAME.test(name)) continue;
      const file = path.join(folder, name);
      if (!statSync(file).isFile()) continue;
      out.set(sub ? `${sub}/${name}` : name, { body: readFileSync(file), contentType });
    }
  }
  return out;
}
