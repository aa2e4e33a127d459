import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServerAuth } from './server-auth.js';

/** The parts of a Fastify request the hook reads. */
interface FastifyRequestLike {
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  readonly body?: unknown;
  readonly raw: IncomingMessage & { auth?: AuthInfo };
}
/** The parts of a Fastify reply the hook writes. */
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: unknown): unknown;
}
/** The parts of a Fastify instance the plugin uses. */
interface FastifyLike {
  get(path: string, handler: (request: unknown, reply: FastifyReplyLike) => unknown): unknown;
}

/**
 * Fastify integration of an MCP server's protection: `register` serves the RFC 9728 metadata,
 * `preHandler` authorizes a request to the MCP route (401/403/400 answered there) and sets
 * `request.raw.auth` for the SDK's `StreamableHTTPServerTransport`.
 *
 * @example
 * ```ts
 * const mcp = mcpFastify(auth);
 * mcp.register(app);
 * app.post('/mcp', { preHandler: mcp.preHandler }, async (req, reply) => {
 *   reply.hijack();
 *   await transport.handleRequest(req.raw, reply.raw, req.body);
 * });
 * ```
 */
export interface McpFastify {
  /** Adds the `GET <metadataPath>` route. */
  register(app: FastifyLike): void;
  /** The route hook of the MCP endpoint (POST, GET and DELETE). */
  preHandler(request: FastifyRequestLike, reply: FastifyReplyLike): Promise<void>;
}

/**
 * Creates the {@link McpFastify} integration of `auth`.
 *
 * @example
 * ```ts
 * const mcp = mcpFastify(createMcpServerAuth({ blueprint, agentId, resource, tools }));
 * ```
 */
export function mcpFastify(auth: McpServerAuth): McpFastify {
  return Object.freeze({
    register(app: FastifyLike) {
      app.get(auth.metadataPath, (_request, reply) =>
        reply
          .code(200)
          .headers({ 'access-control-allow-origin': '*', 'cache-control': 'no-store' })
          .send(auth.metadata),
      );
    },
    async preHandler(request: FastifyRequestLike, reply: FastifyReplyLike) {
      const d = await auth.authorize({
        method: request.method,
        headers: request.headers,
        rawHeaders: request.raw.rawHeaders,
        body: request.body,
      });
      if (!d.ok) {
        await reply
          .code(d.response.status)
          .headers({ ...d.response.headers, 'cache-control': 'no-store' })
          .send(d.response.body);
        return;
      }
      request.raw.auth = d.authInfo;
    },
  });
}
