import type { Emulator } from './emulator.js';
import type { FaultSpec } from './http/faults.js';
import type { AgentRiskLevel, ConditionalAccessPolicy } from './policy/conditional-access.js';
import { json, type EmuRequest, type EmuResponse } from './http/types.js';

const parse = (body: string): Record<string, unknown> | undefined => {
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** Admin routes under /_emulator, for tests and tools in other processes (loopback only). */
export function createAdmin(
  emu: () => Emulator,
): (req: EmuRequest, base: string) => Promise<EmuResponse | undefined> {
  return async (req, base) => {
    const e = emu();
    const p = req.url.pathname.replace(/\/+$/, '');
    // A POST may come without a body (reset, rotate); a body that is there must be a JSON object.
    const body = req.method === 'POST' ? (req.body.trim() === '' ? {} : parse(req.body)) : undefined;
    if (req.method === 'POST' && !body)
      return json(400, { error: 'invalid_request', error_description: 'JSON object body required' });
    try {
      if (p === '/_emulator/counters' && req.method === 'GET') return json(200, e.counters.snapshot());
      if (p === '/_emulator/counters/reset' && req.method === 'POST') {
        e.counters.reset();
        return json(200, { ok: true });
      }
      if (p === '/_emulator/requests' && req.method === 'GET') return json(200, e.counters.requests());
      if (p === '/_emulator/faults' && req.method === 'GET') return json(200, e.faults.active());
      if (p === '/_emulator/faults' && req.method === 'POST')
        return json(201, { id: e.faults.add(body as unknown as FaultSpec) });
      if (p === '/_emulator/faults' && req.method === 'DELETE') {
        e.faults.clear();
        return json(200, { ok: true });
      }
      const one = /^\/_emulator\/faults\/([^/]+)$/.exec(p);
      if (one?.[1] && req.method === 'DELETE') {
        return e.faults.remove(one[1])
          ? json(200, { ok: true })
          : json(404, { error: 'not_found', error_description: `no fault ${one[1]}` });
      }
      // Conditional Access: policies and agent risk, toggled at run time.
      const ca = e.conditionalAccess;
      if (p === '/_emulator/conditional-access' && req.method === 'GET')
        return json(200, { policies: ca.list() });
      if (p === '/_emulator/conditional-access' && req.method === 'POST')
        return json(201, { id: ca.add(body as unknown as ConditionalAccessPolicy) });
      if (p === '/_emulator/conditional-access' && req.method === 'DELETE') {
        ca.clear();
        return json(200, { ok: true });
      }
      const policy = /^\/_emulator\/conditional-access\/([^/]+)$/.exec(p);
      if (policy?.[1] && policy[1] !== 'risk' && req.method === 'DELETE')
        return ca.remove(policy[1])
          ? json(200, { ok: true })
          : json(404, { error: 'not_found', error_description: `no policy ${policy[1]}` });
      if (p === '/_emulator/conditional-access/risk' && req.method === 'POST') {
        const { agentId, level } = body as { agentId?: unknown; level?: unknown };
        if (typeof agentId !== 'string') throw new TypeError('agentId is required');
        ca.setAgentRisk(agentId, (level ?? undefined) as AgentRiskLevel | undefined);
        return json(200, { ok: true });
      }
      if (p === '/_emulator/keys/rotate' && req.method === 'POST')
        return json(200, { kid: await e.rotateKeys() });
      if (p === '/_emulator/tokens/user' && req.method === 'POST') {
        const token = await e.issueUserToken({ ...(body as object), baseUrl: base } as Parameters<
          Emulator['issueUserToken']
        >[0]);
        return json(200, { access_token: token });
      }
      if (p === '/_emulator/tokens/external' && req.method === 'POST') {
        const { issuer, subject, audience } = body as {
          issuer?: string;
          subject?: string;
          audience?: string;
        };
        return json(200, {
          token: await e.issueExternalToken(String(issuer), {
            subject: String(subject),
            ...(audience ? { audience } : {}),
            baseUrl: base,
          }),
        });
      }
      const revoke = /^\/_emulator\/users\/([^/]+)\/revokeSignInSessions$/.exec(p);
      if (revoke?.[1] && req.method === 'POST') {
        const { tenantId } = body as { tenantId?: string };
        return json(200, { revoked: e.revokeSignInSessions(decodeURIComponent(revoke[1]), tenantId) });
      }
      if (p === '/_emulator/directory' && req.method === 'GET') return json(200, e.describe(base));
      if (p === '/_emulator/graph' && req.method === 'GET') return json(200, e.graph);
      if (p === '/_emulator/graph' && req.method === 'POST') {
        const { replicationLag, directoryQuota } = body as Record<string, unknown>;
        if (
          replicationLag !== undefined &&
          !(Number.isInteger(replicationLag) && Number(replicationLag) >= 0)
        )
          throw new TypeError('replicationLag must be a non-negative integer');
        if (
          directoryQuota !== undefined &&
          directoryQuota !== null &&
          !(Number.isInteger(directoryQuota) && Number(directoryQuota) > 0)
        )
          throw new TypeError('directoryQuota must be a positive integer or null');
        if (replicationLag !== undefined) e.graph.replicationLag = replicationLag as number;
        if (directoryQuota !== undefined)
          e.graph.directoryQuota = (directoryQuota ?? undefined) as number | undefined;
        return json(200, e.graph);
      }
    } catch (err) {
      return json(400, {
        error: 'invalid_request',
        error_description: err instanceof Error ? err.message : String(err),
      });
    }
    return undefined;
  };
}
