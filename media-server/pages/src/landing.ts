// The landing page: what this node is, and links to the pages it serves.
import { byId, decorateHeader } from './page-common.js';

async function main(): Promise<void> {
  const info = await decorateHeader();
  if (!info) return;
  byId('fact-node').textContent = info.node ?? 'not shown in production';
  byId('fact-version').textContent = info.version ?? 'not shown in production';
  byId('fact-mode').textContent = info.mode;
  byId('fact-cluster').textContent = info.clustered ? 'clustered' : 'single node';
  const demoOff = !info.pages.includes('demo');
  byId('demo-off').hidden = !demoOff;
  for (const id of ['card-demo', 'card-check']) {
    const card = byId(id);
    card.hidden = false; // shown, but marked off, so the reader learns the pages exist
    if (demoOff) {
      card.classList.add('off');
      card.removeAttribute('href');
      card.setAttribute('aria-disabled', 'true');
    }
  }
}

void main();
