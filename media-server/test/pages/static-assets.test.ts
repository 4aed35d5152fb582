import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadStaticAssets } from '../../src/pages/static-assets.js';

test('only plain files of known types at the top and in assets/ are served; dotfiles, other folders and unknown types are not', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fj-pages-'));
  try {
    mkdirSync(path.join(dir, 'assets'));
    mkdirSync(path.join(dir, 'other'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(path.join(dir, 'assets', 'demo.js'), 'x');
    writeFileSync(path.join(dir, 'assets', '.env'), 'SECRET=1');
    writeFileSync(path.join(dir, 'assets', 'notes.txt'), 'x');
    writeFileSync(path.join(dir, 'other', 'x.js'), 'x');
    mkdirSync(path.join(dir, 'assets', 'dir.js'));
    const map = loadStaticAssets(dir);
    t.deepEqual([...map.keys()].sort(), ['assets/demo.js', 'index.html']);
    t.is(map.get('assets/demo.js')!.contentType, 'text/javascript; charset=utf-8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no built pages: an empty map, not a crash', (t) => {
  t.is(loadStaticAssets('/nonexistent/fj-pages').size, 0);
});
