import test from 'ava';
import { isKeyFrameRequest, isRtp, RtpStreamCounter, ssrcsOf } from '../../src/load/rtp-stream-counter.js';
import { parseWorkerGauge } from '../../src/load/server-load.js';
import { consumersAtBudget } from '../../src/load/load-report.js';

function rtp(ssrc: number, seq: number, pt = 96): Buffer {
  const b = Buffer.alloc(40);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

test('received, expected and lost per stream, across the sequence number wrap; unknown SSRCs apart', (t) => {
  let now = 1000;
  const c = new RtpStreamCounter(() => now);
  c.expect(1, 'video');
  c.expect(2, 'audio');
  for (const seq of [65533, 65534, 65535, 0, 2, 3, 1]) c.feed(rtp(1, seq)); // 1 arrives late: nothing lost
  for (const seq of [10, 11, 14]) c.feed(rtp(2, seq, 111)); // 12, 13 lost
  c.feed(rtp(1234, 1, 127)); // mediasoup's probation stream
  t.deepEqual(c.counts().map(({ ssrc, received, expected, lost }) => ({ ssrc, received, expected, lost })), [
    { ssrc: 1, received: 7, expected: 7, lost: 0 },
    { ssrc: 2, received: 3, expected: 5, lost: 2 },
  ]);
  t.is(c.unknownPackets, 1);
  t.is(c.allStartedAt(), 1000);
  now = 2000;
  c.expect(3, 'video');
  t.is(c.allStartedAt(), undefined);
});

test('RTP, RTCP and key frame requests told apart from the clear-text headers', (t) => {
  t.true(isRtp(rtp(1, 1)));
  t.true(isRtp(rtp(1, 1, 96 | 0x80))); // marker bit
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  t.false(isRtp(rr));
  t.false(isKeyFrameRequest(rr));
  const pli = Buffer.alloc(24);
  pli[0] = 0x81;
  pli[1] = 206;
  t.true(isKeyFrameRequest(pli));
  t.false(isRtp(Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))); // DTLS
});

test('SSRCs of an answer with their kinds; RTX repair streams left out', (t) => {
  const sdp = ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=ssrc:11 cname:x', 'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'a=ssrc-group:FID 22 23', 'a=ssrc:22 cname:x', 'a=ssrc:23 cname:x', 'a=ssrc:22 msid:a b'].join('\r\n');
  t.deepEqual(ssrcsOf(sdp), [{ ssrc: 11, kind: 'audio' }, { ssrc: 22, kind: 'video' }]);
});

test('worker gauges from the Prometheus text, and consumers at 85% from the busiest worker', (t) => {
  const text = '# HELP fishjam_worker_cpu_ratio x\nfishjam_worker_cpu_ratio{worker="0"} 0.5\nfishjam_worker_cpu_ratio{worker="1"} 0.25\nfishjam_worker_consumers{worker="0"} 100\n';
  t.deepEqual([...parseWorkerGauge(text, 'fishjam_worker_cpu_ratio')], [['0', 0.5], ['1', 0.25]]);
  const sample = (cpu: number, consumers: number) => ({ t: 0, unreachable: [], workers: [{ endpoint: 'e', worker: '0', cpu, consumers }, { endpoint: 'e', worker: '1', cpu: 0.01, consumers: 1 }] });
  t.deepEqual(consumersAtBudget([sample(0.5, 100), sample(0.425, 100), sample(0.01, 0)]), { estimate: 170, cpu: 0.5, consumers: 100 });
});
