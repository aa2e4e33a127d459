/**
 * @agentid/express: Express 5 middleware for agents on Microsoft Entra Agent ID. Authenticates the
 * inbound user (or upstream agent) token, and gives each route `req.agentid.tool(name)`: a token
 * scoped to exactly that tool, injected into its calls.
 * @packageDocumentation
 */
import { type AgentRequestContext, type AgentToolkit, type AgentToolkitOptions, createAgentToolkit, toErrorResponse } from '@agentid/tools';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

export type { AgentRequestContext, AgentToolkit, AgentToolkitOptions, DecisionEvent, InvocationEvent, ToolDefinition, ToolHandle } from '@agentid/tools';
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

const toolkitOf = (o: AgentIdMiddlewareOptions): AgentToolkit => ('toolkit' in o ? o.toolkit : createAgentToolkit(o));

function send(res: Response, error: unknown, realm: string): void {
  const r = toErrorResponse(error, realm);
  res.status(r.status).set(r.headers).json(r.body);
}

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
      (e: unknown) => send(res, e, toolkit.realm),
    );
  };
}

/**
 * The error handler to mount last: maps agentid errors thrown by routes (unknown or forbidden
 * tool, refused exchange, upstream failure) and body-parser errors to the same clean JSON answers,
 * never a stack trace or a token.
 *
 * @example
 * ```ts
 * app.use(agentidErrors({ realm: 'mail-agent' }));
 * ```
 */
export function agentidErrors(options: { realm?: string } = {}): ErrorRequestHandler {
  return (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    send(res, err, options.realm ?? 'agentid');
  };
}
