/**
 * @agentid/fastify: the agentid Fastify 5 plugin. Authenticates the inbound user (or upstream
 * agent) token, and decorates requests with `request.agentid.tool(name)`: a token scoped to
 * exactly that tool, injected into its calls.
 * @packageDocumentation
 */
import { isAgentIdError } from '@agentid/core';
import {
  type AgentRequestContext,
  type AgentToolkit,
  type AgentToolkitOptions,
  createAgentToolkit,
  toErrorResponse,
} from '@agentid/tools';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export type {
  AgentRequestContext,
  AgentToolkit,
  AgentToolkitOptions,
  DecisionEvent,
  InvocationEvent,
  ToolDefinition,
  ToolHandle,
} from '@agentid/tools';
export { createAgentToolkit, defineTools, toErrorResponse } from '@agentid/tools';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the agentid plugin on authenticated requests (`null` on skipped routes). */
    agentid: AgentRequestContext | null;
  }
}

/**
 * Options of the plugin: a toolkit or the options to create one, and which requests to skip
 * (health checks and the like).
 *
 * @example
 * ```ts
 * await app.register(agentidPlugin, { blueprint, agentId, tools, skip: (req) => req.url === '/healthz' });
 * ```
 */
export type AgentIdPluginOptions = (AgentToolkitOptions | { toolkit: AgentToolkit }) & {
  /** Requests the plugin leaves alone (no authentication), e.g. health checks. */
  skip?: (request: FastifyRequest) => boolean;
};

const sendError = (reply: FastifyReply, error: unknown, realm: string): FastifyReply => {
  const r = toErrorResponse(error, realm);
  return reply.code(r.status).headers(r.headers).send(r.body);
};

/** Fastify's own body-parsing refusals (bad or empty JSON, too large, unsupported type): the caller's mistake. */
const isBodyError = (e: unknown): boolean => {
  const { code, statusCode } = (e ?? {}) as { code?: unknown; statusCode?: unknown };
  return (
    typeof code === 'string' &&
    code.startsWith('FST_ERR_CTP_') &&
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500
  );
};

const plugin: FastifyPluginAsync<AgentIdPluginOptions> = async (fastify, options) => {
  const toolkit = 'toolkit' in options ? options.toolkit : createAgentToolkit(options);
  fastify.decorateRequest('agentid', null);
  // A callback hook, not an async one: one promise less per request. On a refusal the hook answers
  // and does not call done(), as Fastify documents for responding from a hook.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (options.skip?.(request)) return done();
    toolkit.authenticate(request.headers, request.raw.rawHeaders).then(
      (ctx) => {
        request.agentid = ctx;
        done();
      },
      (e: unknown) => {
        // A refusal is answered here; any other failure (a validator bug, say) takes Fastify's error path.
        if (isAgentIdError(e)) sendError(reply, e, toolkit.realm);
        else done(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
  // Route errors (unknown or forbidden tool, refused exchange, bad JSON bodies) get the same
  // clean JSON answers as the Express adapter: never a stack trace or a token. Any other error is
  // the application's, untouched: the route's own error handler, if it has one, or else (thrown
  // on) the error handler of its scope, the application's or Fastify's default (which logs it
  // with `request.log`). Set per route, so the application's setErrorHandler is never replaced,
  // in whatever order it is called.
  fastify.addHook('onRoute', (route) => {
    const own = route.errorHandler;
    route.errorHandler = function agentidErrorHandler(this: unknown, error, request, reply) {
      if (isAgentIdError(error) || isBodyError(error)) return sendError(reply, error, toolkit.realm);
      if (own) return own.call(this as FastifyInstance, error, request, reply);
      throw error;
    };
  });
};

/**
 * The plugin (wrapped with fastify-plugin, so the decorator and hook apply to the routes of the
 * context it is registered in).
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(agentidPlugin, { blueprint, agentId, tools });
 * app.post('/reply', async (req) => (await req.agentid!.tool('draft_reply').fetch(url)).json());
 * ```
 */
export const agentidPlugin = fp(plugin, { name: '@agentid/fastify', fastify: '5.x' });
export default agentidPlugin;
