// The pure parts of the SIP and RTSP components: SIP parsing and digest answers (RFC 2617's own example), the callee's
// SDP answer, the RTSP ffconcat script's quoting (a URI cannot add lines or directives) and the redaction of
// credentials from ffmpeg's words.
import test from 'ava';
import { redact } from '../../src/components/rtsp-camera.js';
import { rtspConcatScript, rtspFfmpegArgs } from '../../src/components/rtsp-ffmpeg-command.js';
import { isRtspUri, redactUri } from '../../src/components/rtsp-options.js';
import { digestAuthorization, parseAudioAnswer, parseChallenge, parseSip, tagOf, uriOf } from '../../src/components/sip-message.js';

test('digest: RFC 2617 section 3.5 example (qop=auth) gives its response', (t) => {
  const challenge = parseChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  t.truthy(challenge);
  const value = digestAuthorization(challenge!, { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', nonceCount: 1, cnonce: '0a4f113b' });
  t.regex(value, /response="6629fae49393a05397450978507c4ef1"/);
  t.regex(value, /qop=auth, nc=00000001, cnonce="0a4f113b"/);
  t.regex(value, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
});

test('digest: challenges that cannot be answered are refused', (t) => {
  t.is(parseChallenge('Basic realm="x"'), undefined);
  t.is(parseChallenge('Digest nonce="n"'), undefined);
  t.is(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-256'), undefined);
  t.truthy(parseChallenge('Digest realm="r", nonce="n", algorithm=MD5'));
});

test('parseSip: responses, compact headers, several Vias on one line, garbage and oversize', (t) => {
  const response = parseSip(Buffer.from('SIP/2.0 200 OK\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\nf: <sip:a@b>;tag=x1\r\nt: "B" <sip:c@d>;tag=y2\r\ni: call-1\r\nCSeq: 1 INVITE\r\nl: 4\r\n\r\nbody'));
  t.is(response?.status, 200);
  t.deepEqual(response?.headers.get('via'), ['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;branch=z9hG4bK2']);
  t.is(tagOf(response?.headers.get('to')?.[0]), 'y2');
  t.is(uriOf(response!.headers.get('to')![0]!), 'sip:c@d');
  t.is(response?.body, 'body');
  const request = parseSip(Buffer.from('BYE sip:x@1.2.3.4:5060 SIP/2.0\r\nCall-ID: z\r\n\r\n'));
  t.is(request?.method, 'BYE');
  t.is(request?.uri, 'sip:x@1.2.3.4:5060');
  t.is(parseSip(Buffer.from('hello')), undefined);
  t.is(parseSip(Buffer.alloc(20_000, 65)), undefined);
  t.is(parseSip(Buffer.from(`INVITE sip:a SIP/2.0\r\n${'X-A: 1\r\n'.repeat(200)}\r\n`)), undefined);
});

test('parseAudioAnswer: session or media address, PCMA offered or not, bad ports', (t) => {
  t.deepEqual(parseAudioAnswer('v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0 8\r\n'), { ip: '10.0.0.1', port: 4000, pcma: true });
  t.deepEqual(parseAudioAnswer('v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\n'), { ip: '10.0.0.2', port: 4000, pcma: false });
  t.is(parseAudioAnswer('v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 70000 RTP/AVP 8\r\n'), undefined);
  t.is(parseAudioAnswer('v=0\r\nm=audio 4000 RTP/AVP 8\r\n'), undefined);
});

test('RTSP: the URI goes to ffmpeg on stdin, quoted; never on the command line', (t) => {
  const uri = "rtsp://user:p'w@cam:554/a";
  const script = rtspConcatScript({ sourceUri: uri, rtpPort: 20000 });
  t.is(script.split('\n')[1], "file 'rtsp://user:p'\\''w@cam:554/a'");
  t.regex(script, /option min_port 20000\noption max_port 20001/);
  t.false(rtspFfmpegArgs({ ip: '127.0.0.1', port: 1000, ssrc: 5 }).join(' ').includes('rtsp://'));
  t.regex(rtspConcatScript({ sourceUri: 'rtsp://a/b', rtpPort: 65535 }), /option max_port 65535/);
  t.false(isRtspUri("rtsp://a/b'\nfile '/etc/passwd"));
});

test('RTSP: credentials are taken out of ffmpeg error lines', (t) => {
  const uri = 'rtsp://admin:s%40cret@cam.local:554/live';
  t.is(redact("[concat] Impossible to open 'rtsp://admin:s%40cret@cam.local:554/live'", uri), "[concat] Impossible to open 'rtsp://***@cam.local:554/live'");
  t.false(redact('method DESCRIBE failed for admin s@cret', uri).includes('s@cret'));
  t.is(redactUri('x rtsp://a:b@h/p y'), 'x rtsp://***@h/p y');
});
