import type { AddressInfo } from 'node:net';
import express from 'express';
import { middlewareScenario } from '@agentid/test-support/scenario';
import { agentid, agentidErrors } from './index.js';

middlewareScenario('Express 5', async (options) => {
  const app = express();
  app.use(express.json(), agentid(options));
  app.post('/call/:tool', async (req, res) => {
    const r = await req
      .agentid!.tool(req.params.tool as string)
      .fetch(String((req.body as { path: string }).path));
    const text = await r.text();
    res.json({ status: r.status, body: text ? JSON.parse(text) : null });
  });
  app.get('/whoami', (req, res) => {
    res.json({ oid: req.agentid!.principal.oid, chain: req.agentid!.delegation.actors });
  });
  app.use(agentidErrors());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
});
