// The demo on the embedded emulator: a blueprint holds the credential, its agents get their own
// tokens (legs 1-2), the broker serves repeats from its cache. Prints claims, never tokens.
import { createEmulator, DEMO } from '@agentid/emulator';
import { createBlueprint, secretCredential } from '@agentid/core';

const emu = await createEmulator();
const blueprint = createBlueprint({
  tenantId: DEMO.tenantId,
  clientId: DEMO.blueprints.workers.appId,
  credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
  authorityHost: emu.baseUrl,
  network: { fetch: emu.fetch },
});

const who = (t) => {
  const c = t.claims ?? {};
  return `subject=${t.subject} actor=${t.actor} idtyp=${c.idtyp} roles=[${(c.roles ?? []).join(', ')}] parent blueprint=${c.parentAppId} expires=${t.expiresOn.toISOString()}`;
};

console.log(`agentid demo: tenant ${DEMO.domain} on the embedded Entra Agent ID emulator (${emu.baseUrl})\n`);
for (const [name, id] of [['Mail agent', DEMO.agents.mail], ['Nightly reporter', DEMO.agents.reporter]]) {
  const agent = blueprint.agent(id);
  const scope = name === 'Mail agent' ? 'api://tools/.default' : 'api://reports/.default';
  const t = await agent.getToken([scope]);
  console.log(`${name} acts as itself for ${scope}:\n  ${who(t)}`);
}
console.log('\n100 concurrent requests for the mail agent token, then 1,000 more:');
const mail = blueprint.agent(DEMO.agents.mail);
await Promise.all(Array.from({ length: 100 }, () => mail.getToken(['api://tools/.default'])));
const t0 = process.hrtime.bigint();
for (let i = 0; i < 1000; i++) await mail.getToken(['api://tools/.default']);
const perOp = Number(process.hrtime.bigint() - t0) / 1000 / 1000;
const s = blueprint.stats();
console.log(`  cache: ${s.hits} hits, ${s.misses} misses, ${s.coalesced} coalesced; ${perOp.toFixed(1)} µs per cached call`);
console.log(`  token endpoint saw: ${JSON.stringify(emu.counters.snapshot().byGrant)}`);
await emu.close();
