// Which UDP sockets, read from /proc/net/udp and udp6, a TURN user could reach besides the media ports.
import test from 'ava';
import { exposedUdpSockets } from '../../src/turn/udp-exposure.js';

// captured on x86-64 (little-endian) and trimmed; the comment says what each line is
const udp = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 3554: 0100007F:C350 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 136697 2 000000006e8e0dd4 0
 6183: 0100007F:0D96 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 136721 2 00000000b316eecc 0
 6184: 0100007F:C738 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 136722 2 00000000b316eecc 0
 6185: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 136723 2 00000000b316eecc 0
 6186: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 136724 2 00000000b316eecc 0
 6187: 0100007F:A1B2 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 136725 2 00000000b316eecc 0
 6188: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 136726 2 00000000b316eecc 0
 6189: 0302010A:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 136727 2 00000000b316eecc 0
`;
// 127.0.0.1:50000 media, 127.0.0.1:3478 coturn, 127.0.0.1:51000 a relay port, 127.0.0.1:5353 and 0.0.0.0:5353 strays,
// a connected DNS client, 127.0.0.53:53 (another address), 10.1.2.3:8080
const udp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000000000000000000000000000:2118 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0
  101: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2 2 0 0
  102: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3 2 0 0
`;
// [::]:8472 (takes IPv4 too), [::ffff:127.0.0.1]:8081, [::1]:8082 (IPv6 only: IPv6 peers are all denied)
const expected = [
  { min: 50000, max: 50999 },
  { min: 3478, max: 3478 },
  { min: 51000, max: 51999 },
];

test('lists the unconnected sockets on the peer address or the wildcard outside the expected ports', (t) => {
  t.deepEqual(exposedUdpSockets(udp + udp6, ['127.0.0.1'], expected, true), [
    { ip: '0.0.0.0', port: 5353 },
    { ip: '127.0.0.1', port: 5353 },
    { ip: '127.0.0.1', port: 8081 },
    { ip: '0.0.0.0', port: 8472 },
  ]);
});

test('another peer address sees its own sockets and the wildcard ones', (t) => {
  t.deepEqual(exposedUdpSockets(udp + udp6, ['10.1.2.3'], expected, true), [
    { ip: '0.0.0.0', port: 5353 },
    { ip: '10.1.2.3', port: 8080 },
    { ip: '0.0.0.0', port: 8472 },
  ]);
});

test('big-endian hosts print addresses in network order', (t) => {
  const line = ' 1: 7F000001:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n';
  t.deepEqual(exposedUdpSockets(line, ['127.0.0.1'], [], false), [{ ip: '127.0.0.1', port: 8080 }]);
});

test('nothing to report on an empty or unreadable table', (t) => {
  t.deepEqual(exposedUdpSockets('', ['127.0.0.1'], expected), []);
  t.deepEqual(exposedUdpSockets('garbage\nmore garbage', ['127.0.0.1'], expected), []);
});
