// The File component's source is opened by the node and checked as opened (source-file.ts): a directory swapped for a
// symlink after the path was checked, a FIFO, a symlink as the last component or a directory are refused, and what
// ffmpeg gets is the descriptor of the file that was checked.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSourceFile } from '../../src/components/source-file.js';

function sandbox(): { root: string; outside: string; cleanup: () => void } {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'fj-source-')));
  const root = path.join(base, 'file_component_sources');
  const outside = path.join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  return { root, outside, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

test('a regular file inside the folder is opened, and the descriptor reads that file', async (t) => {
  const { root, cleanup } = sandbox();
  t.teardown(cleanup);
  writeFileSync(path.join(root, 'a.h264'), 'inside');
  const opened = await openSourceFile(path.join(root, 'a.h264'), root);
  if (!opened.ok) return t.fail(opened.reason);
  t.is((await opened.handle.readFile()).toString(), 'inside');
  await opened.handle.close();
});

test('a directory swapped for a symlink out of the folder after the check is refused (the TOCTOU of a name)', async (t) => {
  const { root, outside, cleanup } = sandbox();
  t.teardown(cleanup);
  mkdirSync(path.join(root, 'sub'));
  writeFileSync(path.join(root, 'sub', 'x.h264'), 'checked');
  const checked = path.join(root, 'sub', 'x.h264'); // what the request check resolved
  // ... and then, before the file is opened:
  renameSync(path.join(root, 'sub'), path.join(root, 'sub.real'));
  writeFileSync(path.join(outside, 'x.h264'), 'secret');
  symlinkSync(outside, path.join(root, 'sub'));
  const opened = await openSourceFile(checked, root);
  t.false(opened.ok);
  if (!opened.ok) t.regex(opened.reason, /moved out of the sources folder/);
});

test('a FIFO is refused at once (never blocks), as are a final symlink and a directory', async (t) => {
  const { root, outside, cleanup } = sandbox();
  t.teardown(cleanup);
  execFileSync('mkfifo', [path.join(root, 'pipe.h264')]);
  const started = Date.now();
  const fifo = await openSourceFile(path.join(root, 'pipe.h264'), root);
  t.false(fifo.ok);
  if (!fifo.ok) t.is(fifo.reason, 'not a regular file');
  t.true(Date.now() - started < 2000, 'did not wait for a writer');
  writeFileSync(path.join(outside, 'o.h264'), 'secret');
  symlinkSync(path.join(outside, 'o.h264'), path.join(root, 'link.h264'));
  const link = await openSourceFile(path.join(root, 'link.h264'), root);
  t.false(link.ok);
  if (!link.ok) t.regex(link.reason, /ELOOP/);
  mkdirSync(path.join(root, 'dir.h264'));
  const dir = await openSourceFile(path.join(root, 'dir.h264'), root);
  t.false(dir.ok);
  const missing = await openSourceFile(path.join(root, 'missing.h264'), root);
  t.false(missing.ok);
  if (!missing.ok) t.regex(missing.reason, /ENOENT/);
});
