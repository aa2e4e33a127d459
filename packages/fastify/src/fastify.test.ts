import Fastify from 'fastify';
import { middlewareScenario } from '@agentid/test-support/scenario';
import { agentidPlugin } from './index.js';

middlewareScenario('Fastify 5', async (options) => {
  const app = Fastify();
  await app.register(agentidPlugin, options);
  app.post<{ Params: { tool: string }; Body: { path: string } }>('/call/:tool', async (req) => {
    const r = await req.agentid!.tool(req.params.tool).fetch(req.body.path);
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  });
  app.get('/whoami', async (req) => ({
    oid: req.agentid!.principal.oid,
    chain: req.agentid!.delegation.actors,
  }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
