// Drains the node running in this container (Kubernetes preStop): POST /admin/drain on localhost, then wait until
// it has no rooms or FJ_DRAIN_TIMEOUT passes. Exits 0 either way so the pod's termination goes on.
const port = process.env.FJ_PORT ?? '8080';
const token = process.env.FJ_SERVER_API_TOKEN ?? 'development';
const timeoutMs = Number(process.env.FJ_DRAIN_TIMEOUT ?? 30) * 1000;
const base = `http://127.0.0.1:${port}`;
const headers = { authorization: `Bearer ${token}` };

const deadline = Date.now() + timeoutMs;
try {
  const res = await fetch(`${base}/admin/drain`, { method: 'POST', headers, signal: AbortSignal.timeout(5000) });
  console.log(`drain requested: HTTP ${res.status}`);
  while (Date.now() < deadline) {
    const state = (await (await fetch(`${base}/admin/drain`, { headers, signal: AbortSignal.timeout(5000) })).json()) as {
      data: { rooms: number };
    };
    if (state.data.rooms === 0) {
      console.log('node is empty');
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
} catch (error) {
  console.error(`drain: ${(error as Error).message}`);
}
process.exit(0);
