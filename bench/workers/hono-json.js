// Bundled with esbuild (bench/lib/bundle.ts) into one ES module before it is deployed anywhere.
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello World!'));
app.get('/api/users/:id', (c) => {
  const id = c.req.param('id');
  return c.json({ id, name: `User ${id}`, roles: ['reader', 'writer'], active: true });
});
app.post('/api/users', async (c) => {
  const user = await c.req.json();
  return c.json({ id: '43', name: user.name, email: user.email, roles: ['reader'] });
});

export default app;
