/**
 * @agentid/express: Express 5 middleware for agents on Microsoft Entra Agent ID. Authenticates the
 * inbound user (or upstream agent) token, and gives each route `req.agentid.tool(name)`: a token
 * scoped to exactly that tool, injected into its calls.
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
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

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

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the `agentid()` middleware on authenticated requests. */
      agentid?: AgentRequestContext;
    }
  }
}

/**
 * Options of {@link agentid}: a toolkit, or the options to create one.
 *
 * @example
 * ```ts
 * const options: AgentIdMiddlewareOptions = { blueprint, agentId, tools };
 * ```
 */
export type AgentIdMiddlewareOptions = AgentToolkitOptions | { toolkit: AgentToolkit };

const toolkitOf = (options: AgentIdMiddlewareOptions): AgentToolkit =>
  'toolkit' in options ? options.toolkit : createAgentToolkit(options);

function send(res: Response, error: unknown, realm: string): void {
  const r = toErrorResponse(error, realm);
  res.status(r.status).set(r.headers).json(r.body);
}

// The `type`s body-parser (express.json(), express.urlencoded(), ...) gives its 4xx errors.
const BODY_PARSER_TYPES: ReadonlySet<string> = new Set([
  'entity.parse.failed',
  'entity.verify.failed',
  'entity.too.large',
  'request.aborted',
  'request.size.invalid',
  'stream.encoding.set',
  'stream.not.readable',
  'parameters.too.many',
  'charset.unsupported',
  'encoding.unsupported',
]);

/** An error of the body parser in front of the routes: the caller's mistake, not the application's. */
const isBodyParserError = (e: unknown): boolean => {
  const { type, status } = (e ?? {}) as { type?: unknown; status?: unknown };
  return (
    typeof type === 'string' &&
    BODY_PARSER_TYPES.has(type) &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500
  );
};

/** Errors the middleware answers itself; everything else is the application's, for its error handlers. */
const ours = (e: unknown): boolean => isAgentIdError(e) || isBodyParserError(e);

/**
 * The middleware: authenticates every request it sees and sets `req.agentid`; answers 401 (with
 * `WWW-Authenticate`) or 403 itself when the caller is refused.
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(express.json(), agentid({ blueprint, agentId, tools }));
 * app.post('/reply', async (req, res) => res.json(await (await req.agentid!.tool('draft_reply').fetch(url)).json()));
 * app.use(agentidErrors());
 * ```
 */
export function agentid(options: AgentIdMiddlewareOptions): RequestHandler {
  const toolkit = toolkitOf(options);
  return (req: Request, res: Response, next: NextFunction) => {
    toolkit.authenticate(req.headers, req.rawHeaders).then(
      (ctx) => {
        req.agentid = ctx;
        next();
      },
      // A failure that is not a refusal (a validator bug, say) goes to the application's error handlers.
      (e: unknown) => (isAgentIdError(e) ? send(res, e, toolkit.realm) : next(e)),
    );
  };
}

/**
 * The error handler for agentid errors: maps those thrown by routes (unknown or forbidden tool,
 * refused exchange, upstream failure) and body-parser 4xx errors (bad JSON, too large) to clean
 * JSON answers, never a stack trace or a token. Any other error is the application's: it is passed
 * on with `next(err)`, to the application's own error handlers (or Express's default one, which
 * logs it), untouched.
 *
 * @example
 * ```ts
 * app.use(agentidErrors({ realm: 'mail-agent' }));
 * app.use((err, req, res, next) => { log.error(err); res.status(500).json({ error: 'server_error' }); });
 * ```
 */
export function agentidErrors(options: { realm?: string } = {}): ErrorRequestHandler {
  return (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent || !ours(err)) return next(err);
    send(res, err, options.realm ?? 'agentid');
  };
}
