// A UDP echo (`echo <ip> <port>`: answers every datagram with "echo:" + its content and prints "got <from>" per
// datagram) or a one-shot ping (`ping <ip> <port>`: sends one datagram, exits 0 on an answer within 3 s, else 1).
// Run inside a network namespace by the tests (`ip netns exec <ns> node --import tsx udp-echo.ts ...`).
import dgram from 'node:dgram';

const [mode, ip, portText] = process.argv.slice(2);
const port = Number(portText);
const socket = dgram.createSocket('udp4');

if (mode === 'echo') {
  socket.on('message', (data, from) => {
    process.stdout.write(`got ${from.address}:${from.port}\n`);
    socket.send(Buffer.concat([Buffer.from('echo:'), data]), from.port, from.address);
  });
  socket.bind(port, ip, () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => process.exit(0));
} else if (mode === 'ping') {
  const timer = setTimeout(() => process.exit(1), 3000);
  socket.on('message', (data) => {
    clearTimeout(timer);
    process.stdout.write(`${data.toString()}\n`);
    process.exit(0);
  });
  socket.bind(0, () => socket.send(Buffer.from('ping'), port, ip!));
} else {
  process.stderr.write('usage: udp-echo.ts echo|ping <ip> <port>\n');
  process.exit(2);
}
