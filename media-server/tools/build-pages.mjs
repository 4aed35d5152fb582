// Builds the built-in pages (media-server/pages) into dist/public: one esbuild bundle per page (the unmodified
// Fishjam web SDK included, so the pages work offline, with no CDN), the stylesheet and icon copied, and the shared
// header written into each HTML page. Run by `npm run build` after tsc; the server reads dist/public at start-up.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'pages');
const out = path.join(root, 'dist/public');
const PAGES = [
  { html: 'index.html', script: 'landing', nav: 'landing' },
  { html: 'demo.html', script: 'demo', nav: 'demo' },
  { html: 'cluster.html', script: 'cluster', nav: 'cluster' },
  { html: 'check.html', script: 'check', nav: 'check' },
];
const NAV = [
  ['landing', '/', 'Home'],
  ['demo', '/demo', 'Demo'],
  ['cluster', '/cluster', 'Cluster'],
  ['check', '/check', 'Check'],
];

function header(current) {
  const links = NAV.map(([id, href, label]) => `<a href="${href}" data-page="${id}"${id === current ? ' aria-current="page"' : ''}>${label}</a>`).join('');
  return `<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/"><span class="logo" aria-hidden="true">▶</span>Fishjam</a>
  <nav class="main" aria-label="Pages">${links}</nav>
  <span class="node-chip" id="node-chip"></span>
</header>`;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });
const started = Date.now();
await esbuild.build({
  entryPoints: Object.fromEntries(PAGES.map((p) => [p.script, path.join(src, 'src', `${p.script}.ts`)])),
  outdir: path.join(out, 'assets'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const p of PAGES) {
  const html = readFileSync(path.join(src, p.html), 'utf8').replace(`<!--HEADER:${p.nav}-->`, header(p.nav));
  writeFileSync(path.join(out, p.html), html);
}
for (const f of ['style.css', 'favicon.svg']) copyFileSync(path.join(src, f), path.join(out, 'assets', f));
console.log(`pages built into dist/public in ${Date.now() - started} ms`);
