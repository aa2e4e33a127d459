// An application's own exceptions must reach the framework's normal error path (the app's error
// handler, Fastify's logger), with the original error: the agentid middleware answers only its
// own errors (and body-parser refusals) with clean JSON.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { type Blueprint, createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { agentid, agentidErrors } from '@agentid/express';
import { agentidPlugin } from '@agentid/fastify';
import type { TokenValidator } from '@agentid/obo';
import type { AgentToolkitOptions } from '@agentid/tools';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const W = DEMO.blueprints.workers;
const TOOLS = { read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' } } as const;
let emu: Emulator;
let bp: Blueprint;
let tc = '';

class AppFailure extends Error {
  readonly detail = 'the application knows what this is';
}
// A validator that breaks (a bug, not a refusal): its failure is the application's to see too.
const brokenValidator: TokenValidator = {
  validate: () => Promise.reject(new TypeError('validator bug')),
} as unknown as TokenValidator;

beforeAll(async () => {
  emu = await createEmulator();
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
  });
  tc = await emu.issueUserToken({
    user: DEMO.users.alice.upn,
    clientId: DEMO.chatApp.appId,
    scopes: [`api://${W.appId}/access_agent`],
  });
});
afterAll(() => emu.close());

const options = (o: Partial<AgentToolkitOptions> = {}): AgentToolkitOptions => ({
  blueprint: bp,
  agentId: DEMO.agents.mail,
  tools: TOOLS,
  ...o,
});
const post = async (url: string, body = '{}', token: string | null = tc) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
};

describe('Express: agentidErrors() passes the application’s errors on', () => {
  let url = '';
  let close: () => Promise<void>;
  let brokenUrl = '';
  let closeBroken: () => Promise<void>;
  const seen: unknown[] = [];
  const thrown = new AppFailure('database down');
  const rejected = new AppFailure('async database down');

  const listen = async (app: express.Express) => {
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  };
  const appHandler = (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    seen.push(err);
    res.status(503).json({ app: 'handled', message: (err as Error).message });
  };

  beforeAll(async () => {
    const app = express();
    app.use(express.json(), agentid(options()));
    app.post('/throws', () => {
      throw thrown;
    });
    app.post('/rejects', async () => {
      await Promise.resolve();
      throw rejected;
    });
    app.post('/tool', async (req, res) => {
      await req.agentid!.tool('delete_mailbox').getToken();
      res.json({});
    });
    app.use(agentidErrors(), appHandler);
    ({ url, close } = await listen(app));
    const broken = express();
    broken.use(express.json(), agentid(options({ validator: brokenValidator })));
    broken.post('/x', (_req, res) => res.json({}));
    broken.use(agentidErrors(), appHandler);
    ({ url: brokenUrl, close: closeBroken } = await listen(broken));
  });
  afterAll(async () => {
    await close();
    await closeBroken();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('hands a route’s thrown or rejected error to the app’s error handler, the same object', async () => {
    expect(await post(`${url}/throws`)).toMatchObject({
      status: 503,
      body: { app: 'handled', message: 'database down' },
    });
    expect(await post(`${url}/rejects`)).toMatchObject({
      status: 503,
      body: { app: 'handled', message: 'async database down' },
    });
    expect(seen).toEqual([thrown, rejected]);
    expect(seen[0]).toBe(thrown);
    expect(seen[1]).toBe(rejected);
  });

  it('hands an authentication failure that is not a refusal (a validator bug) to the app’s error handler', async () => {
    expect(await post(`${brokenUrl}/x`)).toMatchObject({
      status: 503,
      body: { app: 'handled', message: 'validator bug' },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(TypeError);
  });

  it('still answers agentid errors and body-parser refusals itself, with clean JSON', async () => {
    expect(await post(`${url}/tool`)).toMatchObject({ status: 404, body: { code: 'AGENTID_TOOL_UNKNOWN' } });
    expect(await post(`${url}/throws`, '{}', null)).toMatchObject({
      status: 401,
      body: { code: 'AGENTID_UNAUTHENTICATED' },
    });
    const bad = await post(`${url}/throws`, '{not json');
    expect(bad).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', code: 'AGENTID_BAD_REQUEST' },
    });
    expect(bad.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(seen).toEqual([]);
  });
});

describe('Fastify: the plugin leaves the application’s errors to Fastify', () => {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const thrown = new AppFailure('database down');
  const routes = (app: FastifyInstance) => {
    app.post('/throws', async () => {
      throw thrown;
    });
    app.post('/tool', async (req) => {
      await req.agentid!.tool('delete_mailbox').getToken();
      return {};
    });
  };
  const apps: FastifyInstance[] = [];
  const start = async (app: FastifyInstance) => {
    apps.push(app);
    return app.listen({ port: 0, host: '127.0.0.1' });
  };
  const errorsLogged = () => lines.filter((l) => l.level === 50);

  afterAll(async () => {
    for (const app of apps) await app.close();
  });
  beforeEach(() => {
    lines.length = 0;
  });

  it('lets Fastify’s default handler answer and log a route’s error (the original error, in fastify.log)', async () => {
    const app = Fastify({ logger: { level: 'info', stream: destination } });
    await app.register(agentidPlugin, options());
    routes(app);
    const url = await start(app);
    const r = await post(`${url}/throws`);
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ message: 'database down' });
    expect(r.body.code).not.toBe('AGENTID_INTERNAL');
    const logged = errorsLogged();
    expect(logged).toHaveLength(1);
    expect(logged[0]!.err).toMatchObject({
      type: 'AppFailure',
      message: 'database down',
      detail: 'the application knows what this is',
    });
    expect(String((logged[0]!.err as { stack?: string }).stack)).toContain('reliability-middleware.test.ts');
  });

  for (const order of ['before', 'after'] as const) {
    it(`lets an error handler the app sets ${order} registering the plugin receive the original error, never replaced`, async () => {
      const seen: unknown[] = [];
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      const app = Fastify({
        logger: { level: 'info', stream: destination },
        allowErrorHandlerOverride: false,
      });
      const handler = (
        err: unknown,
        _req: unknown,
        reply: { code(n: number): { send(b: unknown): unknown } },
      ) => {
        seen.push(err);
        return reply.code(503).send({ app: 'handled' });
      };
      if (order === 'before') app.setErrorHandler(handler);
      await app.register(agentidPlugin, options());
      if (order === 'after') app.setErrorHandler(handler);
      routes(app);
      // A child scope's own handler gets its routes' errors; agentid errors stay the plugin's there too.
      const inChild: unknown[] = [];
      await app.register(
        async (child) => {
          child.setErrorHandler(
            (err, _req, reply) => (inChild.push(err), reply.code(502).send({ child: 'handled' })),
          );
          routes(child as unknown as FastifyInstance);
        },
        { prefix: '/child' },
      );
      const url = await start(app);
      expect(await post(`${url}/throws`)).toMatchObject({ status: 503, body: { app: 'handled' } });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBe(thrown);
      expect(await post(`${url}/child/throws`)).toMatchObject({ status: 502, body: { child: 'handled' } });
      expect(inChild).toEqual([thrown]);
      // agentid errors are still the plugin's: the app's handlers never see them.
      expect(await post(`${url}/tool`)).toMatchObject({
        status: 404,
        body: { code: 'AGENTID_TOOL_UNKNOWN' },
      });
      expect(await post(`${url}/child/tool`)).toMatchObject({
        status: 404,
        body: { code: 'AGENTID_TOOL_UNKNOWN' },
      });
      expect(seen).toHaveLength(1);
      expect(inChild).toHaveLength(1);
      await new Promise((r) => setImmediate(r));
      process.off('warning', onWarning);
      expect(warnings.filter((w) => (w as { code?: string }).code === 'FSTWRN004')).toEqual([]);
    });
  }

  it('logs an authentication failure that is not a refusal (a validator bug)', async () => {
    const app = Fastify({ logger: { level: 'info', stream: destination } });
    await app.register(agentidPlugin, options({ validator: brokenValidator }));
    routes(app);
    const url = await start(app);
    expect((await post(`${url}/throws`)).status).toBe(500);
    expect(errorsLogged().map((l) => (l.err as { message?: string }).message)).toEqual(['validator bug']);
  });

  it('still answers agentid errors and bad bodies itself, with clean JSON and no error log', async () => {
    const app = Fastify({ logger: { level: 'info', stream: destination } });
    await app.register(agentidPlugin, options());
    routes(app);
    const url = await start(app);
    expect(await post(`${url}/tool`)).toMatchObject({ status: 404, body: { code: 'AGENTID_TOOL_UNKNOWN' } });
    expect(await post(`${url}/throws`, '{}', null)).toMatchObject({
      status: 401,
      body: { code: 'AGENTID_UNAUTHENTICATED' },
    });
    const bad = await post(`${url}/throws`, '{not json');
    expect(bad).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', code: 'AGENTID_BAD_REQUEST' },
    });
    expect(errorsLogged()).toEqual([]);
    for (const l of lines) expect(JSON.stringify(l)).not.toContain(tc.split('.')[1]);
  });
});
