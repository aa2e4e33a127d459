import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificate, type GeneratedCertificate } from '../crypto/certs.js';
import { json, type EmuRequest, type EmuResponse } from './types.js';
import { MAX_BODY_BYTES } from './router.js';

type Handler = (req: EmuRequest) => Promise<EmuResponse>;

/** The emulator's TLS material: a CA it generated and a server certificate for loopback names. */
export interface Tls {
  ca: GeneratedCertificate;
  server: GeneratedCertificate;
}

export function createTls(): Tls {
  const ca = createCertificate({ subject: 'agentid emulator CA', isCa: true, validDays: 30 });
  const server = createCertificate({
    subject: 'localhost',
    issuer: ca,
    altNames: { dns: ['localhost'], ip: ['127.0.0.1', '::1'] },
    validDays: 30,
  });
  return { ca, server };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function writeResponse(res: ServerResponse, r: EmuResponse): void {
  if (r.drop) {
    res.socket?.destroy();
    return;
  }
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

function nodeListener(handler: Handler, protocol: 'http' | 'https') {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      try {
        const body = await readBody(req);
        if (body === undefined)
          return writeResponse(
            res,
            json(413, {
              error: 'invalid_request',
              error_description: 'AADSTS90015: Request body too large.',
              error_codes: [90015],
            }),
          );
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        const host = headers.host ?? 'localhost';
        let url: URL;
        try {
          url = new URL(req.url ?? '/', `${protocol}://${host}`);
        } catch {
          return writeResponse(
            res,
            json(400, {
              error: 'invalid_request',
              error_description: 'AADSTS900144: Malformed request URL.',
              error_codes: [900144],
            }),
          );
        }
        const r = await handler({ method: req.method ?? 'GET', url, headers, body });
        if (r.delayMs) await new Promise((ok) => setTimeout(ok, r.delayMs));
        writeResponse(res, r);
      } catch {
        if (!res.headersSent)
          writeResponse(
            res,
            json(500, {
              error: 'server_error',
              error_description: 'AADSTS90033: A transient error has occurred. Please try again.',
              error_codes: [90033],
            }),
          );
      }
    })();
  };
}

export interface Listening {
  server: Server;
  url: string;
}

/** Starts one HTTP or HTTPS listener for the handler on loopback. */
export async function listen(
  handler: Handler,
  opts: { protocol: 'http' | 'https'; host: string; port: number; tls?: Tls },
): Promise<Listening> {
  const listener = nodeListener(handler, opts.protocol);
  const server =
    opts.protocol === 'https'
      ? createHttpsServer({ key: opts.tls!.server.keyPem, cert: opts.tls!.server.certPem }, listener)
      : createHttpServer(listener);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return { server, url: `${opts.protocol}://${host === '127.0.0.1' ? 'localhost' : host}:${port}` };
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
