// A whole node (test-node.ts) in its own process, for tests that freeze (SIGSTOP) or kill a node. The environment
// comes as JSON in argv[2]; prints one JSON line {httpPort, name} when serving; stops when stdin closes.
import { startTestNode } from '../support/test-node.js';

const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const node = await startTestNode(env);
process.stdout.write(JSON.stringify({ httpPort: node.node.httpPort, name: node.node.cluster?.self.full }) + '\n');
const stop = () => void node.stop().finally(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
