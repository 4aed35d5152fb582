// The baseline for the REST benchmark: a bare koa app answering one JSON route, nothing else.
import Koa from 'koa';

const app = new Koa();
app.use((ctx) => {
  ctx.status = ctx.method === 'POST' ? 201 : 200;
  ctx.body = { data: { hello: 'world' } };
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
