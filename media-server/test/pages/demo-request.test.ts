import test from 'ava';
import { HttpError } from '../../src/api/http-error.js';
import { isDemoRoomId, parseDemoPeerRequest } from '../../src/pages/demo-request.js';
import { pageAccess } from '../../src/pages/page-access.js';

test('a demo peer request names a room; the id is always the demo- prefixed name', (t) => {
  t.deepEqual(parseDemoPeerRequest({ room: 'team_1-a' }), { roomId: 'demo-team_1-a' });
  t.true(isDemoRoomId('demo-team_1-a'));
  t.false(isDemoRoomId('team'));
  t.false(isDemoRoomId('demo-'));
});

test('anything else is a 400', (t) => {
  const bad: Array<Record<string, unknown>> = [{}, { room: '' }, { room: 3 }, { room: null }, { room: '../x' }, { room: 'a b' }, { room: 'é' }, { room: 'x'.repeat(49) }, { room: 'x', roomId: 'y' }, { room: ['x'] }];
  for (const body of bad) {
    const error = t.throws(() => parseDemoPeerRequest(body), undefined, JSON.stringify(body));
    t.true(error instanceof HttpError && error.status === 400);
  }
});

test('pages per mode: production serves / and /cluster, the demo and the check only with FJ_DEMO_ENABLED', (t) => {
  t.deepEqual([...pageAccess('production', false, 't').pages].sort(), ['cluster', 'landing']);
  t.false(pageAccess('production', false, 't').demoEndpoint);
  t.deepEqual([...pageAccess('production', true, 't').pages].sort(), ['check', 'cluster', 'demo', 'landing']);
  t.deepEqual([...pageAccess('development', true, 't').pages].sort(), ['check', 'cluster', 'demo', 'landing']);
  t.true(pageAccess('development', true, 'development').prefillDevelopmentToken);
  t.false(pageAccess('development', true, 'my-token').prefillDevelopmentToken, 'a token the operator set is never offered');
  t.false(pageAccess('production', true, 'development').prefillDevelopmentToken);
  t.true(pageAccess('development', false, 't').discloseNode);
  t.false(pageAccess('production', true, 't').discloseNode, 'production pages do not name the node or its version');
});
