// Client JSON is parsed only when small and shallow enough: the depth scan must agree with the real nesting (strings
// and escapes included), and a media event nested 100 000 levels deep, which once took the node down, is refused
// before JSON.parse with an error value, never an exception.
import test from 'ava';
import { jsonNestingDepth, parseBoundedJson, valueDepthExceeds } from '../../src/json/bounded-json.js';
import { parseClientMediaEvent } from '../../src/signaling/media-events/index.js';

test('the nesting depth of JSON text, strings and escapes ignored', (t) => {
  const cases: Array<[string, number]> = [
    ['1', 0],
    ['"[[[["', 0],
    ['[]', 1],
    ['{"a":[1,{"b":[]}]}', 4],
    ['["\\"[", "]\\\\", [[]]]', 3],
    ['{"k\\\\":"{{{"}', 1],
  ];
  for (const [text, depth] of cases) {
    t.is(jsonNestingDepth(text), depth, text);
    t.is(valueDepthExceeds(JSON.parse(text), depth), false, text);
    t.is(valueDepthExceeds(JSON.parse(text), depth - 1), depth > 0, text);
  }
});

test('too long, too deep and malformed JSON are error values', (t) => {
  t.deepEqual(parseBoundedJson('[1,2]', { maxLength: 100, maxDepth: 2 }), { ok: true, value: [1, 2] });
  t.deepEqual(parseBoundedJson('x'.repeat(101), { maxLength: 100, maxDepth: 2 }), { ok: false, error: 'JSON longer than 100 characters' });
  t.deepEqual(parseBoundedJson('[[[1]]]', { maxLength: 100, maxDepth: 2 }), { ok: false, error: 'JSON nested deeper than 2 levels' });
  t.deepEqual(parseBoundedJson('[[1]', { maxLength: 100, maxDepth: 2 }), { ok: false, error: 'not JSON' });
});

test('a media event nested 100 000 deep, or with metadata over 16 KiB, is refused; 60 levels of metadata are kept', (t) => {
  const deep = `{"type":"updateEndpointMetadata","data":{"metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
  const parsed = parseClientMediaEvent(deep);
  t.false(parsed.ok);
  t.regex(parsed.ok ? '' : parsed.error, /nested deeper than 64/);

  const big = parseClientMediaEvent(JSON.stringify({ type: 'updateEndpointMetadata', data: { metadata: 'x'.repeat(17_000) } }));
  t.false(big.ok);
  t.regex(big.ok ? '' : big.error, /metadata of 17002 characters, more than 16384/);

  let nested: unknown = 'leaf';
  for (let i = 0; i < 60; i++) nested = { a: nested };
  const ok = parseClientMediaEvent(JSON.stringify({ type: 'updateEndpointMetadata', data: { metadata: nested } }));
  t.true(ok.ok);
  // and what is kept can travel on: stringify does not throw
  t.notThrows(() => JSON.stringify(ok));
});
