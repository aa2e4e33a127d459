import { MAX_BODY_BYTES } from './router.js';
import { json, type EmuRequest, type EmuResponse } from './types.js';

type Handler = (req: EmuRequest) => Promise<EmuResponse>;

const sleep = (ms: number, signal?: AbortSignal | null): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

async function toEmuRequest(input: string | URL | Request, init?: RequestInit): Promise<EmuRequest> {
  const req = new Request(input, init);
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return {
    method: req.method,
    url: new URL(req.url),
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text(),
  };
}

/** Statuses whose response must not carry a body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

async function deliver(handler: Handler, req: EmuRequest, signal?: AbortSignal | null): Promise<EmuResponse> {
  if (signal?.aborted) throw signal.reason;
  // The socket server refuses big bodies before the handler sees them: so does the in-process path.
  if (Buffer.byteLength(req.body, 'utf8') > MAX_BODY_BYTES)
    return json(413, {
      error: 'invalid_request',
      error_description: 'AADSTS90015: Request body too large.',
      error_codes: [90015],
    });
  const res = await handler(req);
  if (res.delayMs) await sleep(res.delayMs, signal);
  if (res.drop)
    throw new TypeError('fetch failed', {
      cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    });
  return res;
}

/** A `fetch` that hands requests to the emulator in-process: no sockets, same behaviour, faults included. */
export function createInProcessFetch(handler: Handler): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const req = await toEmuRequest(input, init);
    const res = await deliver(handler, req, init?.signal);
    return new Response(NULL_BODY.has(res.status) || req.method === 'HEAD' ? null : res.body, {
      status: res.status,
      headers: res.headers,
    });
  }) as typeof fetch;
}

/**
 * The emulator's in-process network client for MSAL Node: MSAL's `INetworkModule` shape,
 * structurally (the emulator does not depend on MSAL). Named apart from `@agentid/core`'s own
 * MSAL network module, which wraps core's HTTP client.
 *
 * @example
 * ```ts
 * const app = new ConfidentialClientApplication({ auth, system: { networkClient: emu.networkModule } });
 * ```
 */
export interface EmulatorNetworkModule {
  /** MSAL's GET (discovery, metadata). */
  sendGetRequestAsync<T>(
    url: string,
    options?: { headers?: Record<string, string>; body?: string },
    timeout?: number,
  ): Promise<{ headers: Record<string, string>; body: T; status: number }>;
  /** MSAL's POST (token requests). */
  sendPostRequestAsync<T>(
    url: string,
    options?: { headers?: Record<string, string>; body?: string },
  ): Promise<{ headers: Record<string, string>; body: T; status: number }>;
}

/** An MSAL network client that talks to the emulator in-process: MSAL itself stays unmodified. */
export function createEmulatorNetworkModule(handler: Handler): EmulatorNetworkModule {
  const send = async <T>(
    method: string,
    url: string,
    options?: { headers?: Record<string, string>; body?: string },
  ) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options?.headers ?? {})) headers[k.toLowerCase()] = v;
    if (method === 'POST' && !headers['content-type'])
      headers['content-type'] = 'application/x-www-form-urlencoded;charset=utf-8';
    const res = await deliver(handler, { method, url: new URL(url), headers, body: options?.body ?? '' });
    return { headers: res.headers, body: JSON.parse(res.body || '{}') as T, status: res.status };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
