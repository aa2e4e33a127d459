import { ConditionalAccessError, createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO } from '@agentid/emulator';
import { describe, expect, it } from 'vitest';
import { agentUser } from '../index.js';

const W = DEMO.blueprints.workers;

describe('an agent user blocked by Conditional Access (AllAgentIdUsers)', () => {
  it('is AGENTID_CONDITIONAL_ACCESS naming the agent, the flow and the resource; its T1 and T2 were issued', async () => {
    const emu = await createEmulator();
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch, retries: 2 },
    });
    emu.conditionalAccess.add({ agentUsers: 'All', control: 'block' });
    const user = agentUser(bp.agent(DEMO.agents.digitalWorker), { upn: DEMO.agentUsers.digitalWorker.upn });
    const e = await user.getToken(['api://tools/Mail.Read']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConditionalAccessError);
    expect(e).toMatchObject({
      code: 'AGENTID_CONDITIONAL_ACCESS',
      agentId: DEMO.agents.digitalWorker,
      resource: 'api://tools',
      aadsts: 53003,
    });
    expect(typeof (e as ConditionalAccessError).flow).toBe('string');
    // leg 1 and leg 2 (T2, the exchange audience) are never evaluated; user_fic once, not retried.
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1, user_fic: 1 });
  });
});
