import { setTimeout as sleepFor } from 'node:timers/promises';
import { type Blueprint, ConfigurationError, ProvisioningError } from '@agentid/core';
import { servicesOf } from '@agentid/core/broker';
import { isReplicationMiss, graphErrorOf, provisioningError } from './graph-errors.js';

/**
 * How Graph is reached: origin, API version, and the retry of Entra's replication delay.
 *
 * @example
 * ```ts
 * const options: GraphOptions = { graphVersion: 'beta', replication: { retries: 3 } };
 * ```
 */
export interface GraphOptions {
  /** Default `https://graph.microsoft.com` (sovereign clouds: their Graph host); against the emulator, `emu.baseUrl`. */
  graphBaseUrl?: string;
  /** Default `v1.0`; `beta` for the beta endpoints. */
  graphVersion?: 'v1.0' | 'beta';
  /**
   * Retries of `400 Object with id … not found` (a just-created object not replicated yet):
   * `retries` (default 5) after `minDelayMs × 2^n` (default 500), capped at `maxDelayMs` (default 8000).
   * 429 and 5xx are retried by the blueprint's HTTP client, honouring `Retry-After`.
   */
  replication?: { retries?: number; minDelayMs?: number; maxDelayMs?: number };
  /** Waits between replication retries (inject one with a manual clock in tests). Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** A Graph caller authorized by the blueprint's own app token. */
export interface GraphClient {
  readonly base: string;
  readonly version: 'v1.0' | 'beta';
  /** `/{version}{path}`. */
  path(path: string): string;
  /** Sends one call; a failure is a typed {@link ProvisioningError}. */
  call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** GETs a collection, following `@odata.nextLink` on the same origin. */
  list(path: string): Promise<Record<string, unknown>[]>;
}

const GRAPH_SCOPE = ['https://graph.microsoft.com/.default'];
const MAX_PAGES = 100;

function count(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 600_000)
    throw new ConfigurationError(`createProvisioner: options.${name} must be an integer of at least ${min}`);
  return value;
}

/** Validates the Graph options and makes the client. */
export function createGraphClient(blueprint: Blueprint, options: GraphOptions = {}): GraphClient {
  if (options === null || typeof options !== 'object')
    throw new ConfigurationError('createProvisioner: options must be an object');
  const services = servicesOf(blueprint);
  const base = (options.graphBaseUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
  if (typeof base !== 'string' || !/^https?:\/\/[^/?#]+$/.test(base))
    throw new ConfigurationError(
      'createProvisioner: options.graphBaseUrl must be an origin such as https://graph.microsoft.com',
    );
  const version = options.graphVersion ?? 'v1.0';
  if (version !== 'v1.0' && version !== 'beta')
    throw new ConfigurationError("createProvisioner: options.graphVersion must be 'v1.0' or 'beta'");
  const r = options.replication ?? {};
  if (r === null || typeof r !== 'object')
    throw new ConfigurationError('createProvisioner: options.replication must be an object');
  const retries = count('replication.retries', r.retries, 5, 0);
  const minDelayMs = count('replication.minDelayMs', r.minDelayMs, 500, 0);
  const maxDelayMs = count('replication.maxDelayMs', r.maxDelayMs, 8000, minDelayMs);
  if (options.sleep !== undefined && typeof options.sleep !== 'function')
    throw new ConfigurationError('createProvisioner: options.sleep must be a function');
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));

  async function once(method: string, url: string, body: unknown) {
    const token = await blueprint.getAppToken(GRAPH_SCOPE);
    const res = await services.http.request({
      url,
      method,
      headers: {
        authorization: `Bearer ${token.token}`,
        accept: 'application/json',
        // Graph wants it with every @odata.type body; harmless on the others.
        ...(body !== undefined ? { 'content-type': 'application/json', 'odata-version': '4.0' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    let parsed: Record<string, unknown> = {};
    if (res.body) {
      try {
        const v = JSON.parse(res.body) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
      } catch {
        parsed = {};
      }
    }
    return { status: res.status, body: parsed };
  }

  async function send(method: string, url: string, label: string, body?: unknown) {
    for (let attempt = 0; ; attempt++) {
      const res = await once(method, url, body);
      if (res.status >= 200 && res.status < 300) return res.body;
      if (attempt < retries && isReplicationMiss(res.status, graphErrorOf(res.body).message)) {
        await sleep(Math.min(maxDelayMs, minDelayMs * 2 ** attempt));
        continue;
      }
      throw provisioningError(method, label, res.status, res.body);
    }
  }

  const client: GraphClient = {
    base,
    version,
    path: (p) => `/${version}${p}`,
    call: (method, path, body) => send(method, `${base}${client.path(path)}`, client.path(path), body),
    async list(path) {
      const out: Record<string, unknown>[] = [];
      let url = `${base}${client.path(path)}`;
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await send('GET', url, client.path(path.split('?')[0]!));
        if (Array.isArray(body.value))
          for (const v of body.value) if (v && typeof v === 'object') out.push(v as Record<string, unknown>);
        const next = body['@odata.nextLink'];
        if (typeof next !== 'string') return out;
        // Follow only links back to the same Graph: never send the token elsewhere.
        if (new URL(next).origin !== new URL(base).origin)
          throw new ProvisioningError(
            'AGENTID_GRAPH',
            `Graph GET ${path.split('?')[0]}: nextLink to another origin`,
          );
        url = next;
      }
      return out;
    },
  };
  return client;
}

/** An OData string literal: `'` doubled. */
export const odataString = (s: string): string => `'${s.replace(/'/g, "''")}'`;
