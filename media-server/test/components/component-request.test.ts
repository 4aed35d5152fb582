// The pure checks of component requests, by table: the bounds the HTTP tests cannot reach cheaply.
import test from 'ava';
import { checkComponentBody, exceedsDepth, MAX_COMPONENTS_PER_ROOM, parseComponentRequest } from '../../src/components/component-request.js';
import { resolveSourcePath } from '../../src/components/file-options.js';
import { DomainError } from '../../src/rooms/domain-errors.js';

const lookup = { root: '/r/file_component_sources', realRoot: () => '/r/file_component_sources', realFile: (p: string) => p };
const ctx = { enabled: new Set(['file'] as const), lookup };

test('at most MAX_COMPONENTS_PER_ROOM components in one room', (t) => {
  const room = { roomId: 'r', videoCodec: null, componentTypes: Array(MAX_COMPONENTS_PER_ROOM).fill('file') };
  const error = t.throws(() => parseComponentRequest('file', { filePath: 'a.h264' }, room, ctx), { instanceOf: DomainError });
  t.is(error?.message, `Reached components limit in room r (at most ${MAX_COMPONENTS_PER_ROOM})`);
  t.notThrows(() => parseComponentRequest('file', { filePath: 'a.h264' }, { ...room, componentTypes: room.componentTypes.slice(1) }, ctx));
});

const paths: Array<[string, string | undefined]> = [
  ['video.h264', '/r/file_component_sources/video.h264'],
  ['/video.h264', '/r/file_component_sources/video.h264'],
  ['sub/dir/video.h264', '/r/file_component_sources/sub/dir/video.h264'],
  ['sub/../video.h264', '/r/file_component_sources/video.h264'],
  ['../restricted_audio.opus', undefined],
  ['/../../etc/passwd', undefined],
  ['..', undefined],
  ['.', undefined],
  ['', undefined],
  ['a\0b.h264', undefined],
  ['x'.repeat(2000), undefined],
  ['..video.h264', '/r/file_component_sources/..video.h264'],
];
for (const [input, expected] of paths) {
  test(`resolveSourcePath(${JSON.stringify(input.slice(0, 30))}) -> ${expected ?? 'refused'}`, (t) => {
    t.is(resolveSourcePath('/r/file_component_sources', input), expected);
  });
}

test('exceedsDepth is iterative and exact', (t) => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  t.true(exceedsDepth(deep, 16));
  t.false(exceedsDepth({ a: { b: [1] } }, 3));
  t.true(exceedsDepth({ a: { b: [1] } }, 2));
  t.throws(() => checkComponentBody({ type: 'file', options: deep as object }), { message: 'Invalid request body structure' });
});
