import {
  createCertificate,
  createEmulator,
  DEMO,
  defaultSeed,
  Directory,
  DirectoryError,
  loadSeedFile,
  MAX_INHERITABLE_RESOURCES,
  type DirectorySeed,
  type TenantSeed,
} from '@agentid/emulator';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { aadsts, claimsOf, postToken } from '@agentid/test-support/emulator';

const T = '11111111-0000-4000-8000-000000000001';
const BP = 'b0000000-0000-4000-8000-0000000000b1';
const BP2 = 'b0000000-0000-4000-8000-0000000000b2';
const SPONSOR = '5b000000-0000-4000-8000-000000000001';
const AGENT = 'a0000000-0000-4000-8000-0000000000a1';
const AGENT2 = 'a0000000-0000-4000-8000-0000000000a2';
const OTHER_AGENT = 'a0000000-0000-4000-8000-0000000000a3';
const API = 'f0000000-0000-4000-8000-0000000000f1';
const EX = 'api://AzureADTokenExchange/.default';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A small tenant; `patch` edits a fresh copy. */
function seed(patch: (t: TenantSeed) => void = () => {}, extra: Partial<DirectorySeed> = {}): DirectorySeed {
  const t: TenantSeed = {
    id: T,
    users: [{ id: SPONSOR, userPrincipalName: 'sponsor@t.example' }],
    resources: [
      {
        appId: API,
        identifierUri: 'api://danger',
        scopes: ['Read'],
        appRoles: ['Safe.Role', 'Directory.ReadWrite.All', 'Custom.Dangerous', 'Global Administrator'],
      },
    ],
    blueprints: [
      { appId: BP, credentials: { secrets: ['bp-secret'] } },
      { appId: BP2, credentials: { secrets: ['bp2-secret'] } },
    ],
    agents: [
      { id: AGENT, blueprintAppId: BP, sponsors: [SPONSOR] },
      { id: AGENT2, blueprintAppId: BP, sponsors: [SPONSOR] },
      { id: OTHER_AGENT, blueprintAppId: BP2, sponsors: [SPONSOR] },
    ],
  };
  patch(t);
  return { tenants: [t], ...extra };
}

function expectDirectoryError(fn: () => unknown, status: number, message?: RegExp): DirectoryError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DirectoryError);
  const e = caught as DirectoryError;
  expect(e.status).toBe(status);
  if (message) expect(e.message).toMatch(message);
  return e;
}

describe('seed validation', () => {
  it('the default seed is valid and consistent with DEMO', () => {
    const d = new Directory(defaultSeed());
    const t = d.tenant(DEMO.tenantId)!;
    expect(d.tenant(DEMO.domain)).toBe(t);
    expect(d.tenant(DEMO.domain.toUpperCase())).toBe(t);
    for (const id of Object.values(DEMO.agents)) expect(t.agents.get(id)?.sponsors.length).toBeGreaterThan(0);
    expect(t.agentUsers.get(DEMO.agentUsers.digitalWorker.id)?.identityParentId).toBe(
      DEMO.agents.digitalWorker,
    );
    expect(d.locateClient(DEMO.agents.mail)).toMatchObject({ kind: 'agent' });
    expect(d.locateClient(DEMO.blueprints.workers.appId)).toMatchObject({ kind: 'blueprint' });
    expect(d.locateClient('nope')).toBeUndefined();
  });

  it('a seed must have a tenants array and GUID tenant ids, no duplicates', () => {
    expect(() => new Directory({} as DirectorySeed)).toThrow(TypeError);
    expect(() => new Directory({ tenants: [{ id: 'contoso' }] })).toThrow(/GUID/);
    expect(() => new Directory({ tenants: [{ id: T }, { id: T }] })).toThrow(/duplicate/);
  });

  it('an agent identity without a sponsor throws', () => {
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agents![0]!.sponsors = [];
          }),
        ),
      400,
      /sponsor/i,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            delete (t.agents![0] as { sponsors?: string[] }).sponsors;
          }),
        ),
      400,
      /sponsor/i,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agents![0]!.sponsors = ['5b000000-0000-4000-8000-00000000dead'];
          }),
        ),
      400,
      /sponsor/i,
    );
  });

  it('an agent identity must reference a blueprint of its tenant; ids are unique', () => {
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agents![0]!.blueprintAppId = 'b0000000-0000-4000-8000-0000000000ff';
          }),
        ),
      400,
      /blueprint/,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agents!.push({ id: AGENT, blueprintAppId: BP2, sponsors: [SPONSOR] });
          }),
        ),
      409,
    );
  });

  it('an inheritable high-privilege role throws (any case), an ordinary one is fine', () => {
    for (const role of [
      'Directory.ReadWrite.All',
      'directory.readwrite.all',
      'RoleManagement.ReadWrite.Directory',
      'Global Administrator',
    ]) {
      expectDirectoryError(
        () =>
          new Directory(
            seed((t) => {
              t.blueprints![0]!.inheritablePermissions = [{ resourceAppId: API, roles: ['Safe.Role', role] }];
            }),
          ),
        400,
        /high-privilege/,
      );
    }
    // A seed's own block-list extends the built-in one.
    expectDirectoryError(
      () =>
        new Directory(
          seed(
            (t) => {
              t.blueprints![0]!.inheritablePermissions = [
                { resourceAppId: API, roles: ['Custom.Dangerous'] },
              ];
            },
            { blockedRoles: ['Custom.Dangerous'] },
          ),
        ),
      400,
    );
    expect(
      () =>
        new Directory(
          seed((t) => {
            t.blueprints![0]!.inheritablePermissions = [{ resourceAppId: API, roles: ['Custom.Dangerous'] }];
          }),
        ),
    ).not.toThrow();
    const d = new Directory(
      seed((t) => {
        t.blueprints![0]!.inheritablePermissions = [
          { resourceAppId: API, scopes: ['Read'], roles: ['Safe.Role'] },
        ];
      }),
    );
    const t = d.tenant(T)!;
    expect(d.appRolesFor(t, AGENT, t.resources.get(API)!)).toEqual(['Safe.Role']);
    expect([...d.delegatedScopesFor(t, AGENT, SPONSOR, t.resources.get(API)!)]).toEqual(['Read']);
    // Not inherited by the other blueprint's agent.
    expect(d.appRolesFor(t, OTHER_AGENT, t.resources.get(API)!)).toEqual([]);
  });

  it('an app role assignment of a blocked role to an agent throws; to a non-agent app it does not', () => {
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.appRoleAssignments = [
              { principalId: AGENT, resourceAppId: API, role: 'Directory.ReadWrite.All' },
            ];
          }),
        ),
      400,
      /high-privilege/,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.appRoleAssignments = [{ principalId: AGENT, resourceAppId: API, role: 'GLOBAL ADMINISTRATOR' }];
          }),
        ),
      400,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed(
            (t) => {
              t.appRoleAssignments = [{ principalId: AGENT, resourceAppId: API, role: 'Custom.Dangerous' }];
            },
            { blockedRoles: ['custom.dangerous'] },
          ),
        ),
      400,
    );
    const d = new Directory(seed());
    expectDirectoryError(
      () => d.assignAppRole(T, { principalId: AGENT2, resourceAppId: API, role: 'Directory.ReadWrite.All' }),
      400,
    );
    expect(() =>
      d.assignAppRole(T, { principalId: BP, resourceAppId: API, role: 'Directory.ReadWrite.All' }),
    ).not.toThrow();
  });

  it(`more than ${MAX_INHERITABLE_RESOURCES} inheritable resource apps throws; exactly ${MAX_INHERITABLE_RESOURCES} is fine`, () => {
    const perms = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        resourceAppId: `f0000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}`,
        scopes: ['Read'],
      }));
    expect(MAX_INHERITABLE_RESOURCES).toBe(10);
    expect(
      () =>
        new Directory(
          seed((t) => {
            t.blueprints![0]!.inheritablePermissions = perms(10);
          }),
        ),
    ).not.toThrow();
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.blueprints![0]!.inheritablePermissions = perms(11);
          }),
        ),
      400,
      /at most 10/,
    );
  });

  it('an agent user’s parent must exist, be an agent identity, and have no other agent user; UPNs are unique', () => {
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agentUsers = [
              {
                id: randomUUID(),
                userPrincipalName: 'au@t.example',
                identityParentId: 'a0000000-0000-4000-8000-00000000dead',
              },
            ];
          }),
        ),
      400,
      /identityParentId/,
    );
    // A blueprint is not an agent identity.
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agentUsers = [{ id: randomUUID(), userPrincipalName: 'au@t.example', identityParentId: BP }];
          }),
        ),
      400,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agentUsers = [
              { id: randomUUID(), userPrincipalName: 'au1@t.example', identityParentId: AGENT },
              { id: randomUUID(), userPrincipalName: 'au2@t.example', identityParentId: AGENT },
            ];
          }),
        ),
      400,
      /at most one/,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            t.agentUsers = [
              { id: randomUUID(), userPrincipalName: 'SPONSOR@t.example', identityParentId: AGENT },
            ];
          }),
        ),
      400,
      /in use/,
    );
    expectDirectoryError(
      () =>
        new Directory(
          seed((t) => {
            const id = randomUUID();
            t.agentUsers = [
              { id, userPrincipalName: 'au1@t.example', identityParentId: AGENT },
              { id, userPrincipalName: 'au2@t.example', identityParentId: AGENT2 },
            ];
          }),
        ),
      409,
    );
    const d = new Directory(seed());
    d.deleteAgentIdentity(T, AGENT);
    expectDirectoryError(
      () => d.createAgentUser(T, { userPrincipalName: 'late@t.example', identityParentId: AGENT }),
      400,
    );
  });
});

describe('blueprint enablement cascades to its agents', () => {
  it('disabling a blueprint makes all its agents unusable; re-enabling restores them, not individually disabled ones', () => {
    const d = new Directory(seed());
    const t = d.tenant(T)!;
    const usable = () =>
      Object.fromEntries([AGENT, AGENT2, OTHER_AGENT].map((id) => [id, d.agentUsable(t, t.agents.get(id)!)]));
    expect(usable()).toEqual({ [AGENT]: true, [AGENT2]: true, [OTHER_AGENT]: true });
    d.setAgentEnabled(T, AGENT2, false);
    d.setBlueprintEnabled(T, BP, false);
    expect(usable()).toEqual({ [AGENT]: false, [AGENT2]: false, [OTHER_AGENT]: true });
    // The agents' own flags are untouched: the cascade is evaluated, not copied.
    expect(t.agents.get(AGENT)!.enabled).toBe(true);
    d.setBlueprintEnabled(T, BP, true);
    expect(usable()).toEqual({ [AGENT]: true, [AGENT2]: false, [OTHER_AGENT]: true });
    expectDirectoryError(() => d.setBlueprintEnabled(T, 'nope', false), 404);
  });

  it('a seeded disabled blueprint disables its agents at the token endpoint too', async () => {
    const emu = await createEmulator({
      seed: seed((t) => {
        t.blueprints![0]!.enabled = false;
      }),
    });
    try {
      const r = await postToken(emu, T, {
        client_id: BP,
        client_secret: 'bp-secret',
        grant_type: 'client_credentials',
        scope: EX,
        fmi_path: AGENT,
      });
      expect(aadsts(r.body)).toBe(7000112);
      emu.directory.setBlueprintEnabled(T, BP, true);
      expect(
        (
          await postToken(emu, T, {
            client_id: BP,
            client_secret: 'bp-secret',
            grant_type: 'client_credentials',
            scope: EX,
            fmi_path: AGENT,
          })
        ).status,
      ).toBe(200);
    } finally {
      await emu.close();
    }
  });

  it('disabling the blueprint after T1 was issued stops leg 2 of all its agents', async () => {
    const emu = await createEmulator({ seed: seed() });
    try {
      const t1 = String(
        (
          await postToken(emu, T, {
            client_id: BP,
            client_secret: 'bp-secret',
            grant_type: 'client_credentials',
            scope: EX,
            fmi_path: AGENT,
          })
        ).body.access_token,
      );
      const leg2 = () =>
        postToken(emu, T, {
          client_id: AGENT,
          grant_type: 'client_credentials',
          scope: 'api://danger/.default',
          client_assertion_type: JWT_BEARER,
          client_assertion: t1,
        });
      expect((await leg2()).status).toBe(200);
      emu.directory.setBlueprintEnabled(T, BP, false);
      expect(aadsts((await leg2()).body)).toBe(7000112);
      emu.directory.setBlueprintEnabled(T, BP, true);
      expect((await leg2()).status).toBe(200);
    } finally {
      await emu.close();
    }
  });
});

describe('blocked roles never reach an agent token', () => {
  it('even when the resource exposes it and an assignment slipped past validation', async () => {
    const s = seed((t) => {
      t.blueprints![0]!.inheritablePermissions = [
        { resourceAppId: API, roles: ['Safe.Role', 'Custom.Dangerous'] },
      ];
      t.appRoleAssignments = [{ principalId: BP, resourceAppId: API, role: 'Directory.ReadWrite.All' }];
    });
    const emu = await createEmulator({ seed: s });
    try {
      const t = emu.directory.tenant(T)!;
      // Bypass the validation, as a buggy admin path might: the token must still not carry them.
      t.appRoleAssignments.push({ principalId: AGENT, resourceAppId: API, role: 'Directory.ReadWrite.All' });
      t.appRoleAssignments.push({ principalId: AGENT, resourceAppId: API, role: 'Global Administrator' });
      // A blocked role assigned to an id before it became an agent identity.
      const late = 'a0000000-0000-4000-8000-0000000000a9';
      emu.directory.assignAppRole(T, {
        principalId: late,
        resourceAppId: API,
        role: 'Directory.ReadWrite.All',
      });
      emu.directory.createAgentIdentity(T, { id: late, blueprintAppId: BP, sponsors: [SPONSOR] });
      // The inheritable list changed after load (not through the seed validation).
      t.blueprints.get(BP)!.inheritable.get(API)!.roles.add('RoleManagement.ReadWrite.Directory');

      const blocked = [
        'Directory.ReadWrite.All',
        'Global Administrator',
        'RoleManagement.ReadWrite.Directory',
      ];
      for (const agent of [AGENT, AGENT2, late]) {
        const t1 = await postToken(emu, T, {
          client_id: BP,
          client_secret: 'bp-secret',
          grant_type: 'client_credentials',
          scope: EX,
          fmi_path: agent,
        });
        expect(t1.status).toBe(200);
        const r = await postToken(emu, T, {
          client_id: agent,
          grant_type: 'client_credentials',
          scope: 'api://danger/.default',
          client_assertion_type: JWT_BEARER,
          client_assertion: String(t1.body.access_token),
        });
        expect(r.status).toBe(200);
        const roles = (claimsOf(r.body.access_token).roles as string[] | undefined) ?? [];
        expect(roles).toContain('Safe.Role');
        for (const b of blocked) expect(roles).not.toContain(b);
      }
      // The blueprint itself is not an agent: its own (non-inherited) assignment stands.
      const app = await postToken(emu, T, {
        client_id: BP,
        client_secret: 'bp-secret',
        grant_type: 'client_credentials',
        scope: 'api://danger/.default',
      });
      expect(claimsOf(app.body.access_token).roles).toContain('Directory.ReadWrite.All');
    } finally {
      await emu.close();
    }
  });

  it('a seed block-list role is stripped from agent tokens as well', async () => {
    const emu = await createEmulator({ seed: seed(() => {}, { blockedRoles: ['Custom.Dangerous'] }) });
    try {
      emu.directory
        .tenant(T)!
        .appRoleAssignments.push(
          { principalId: AGENT, resourceAppId: API, role: 'Custom.Dangerous' },
          { principalId: AGENT, resourceAppId: API, role: 'Safe.Role' },
        );
      const t1 = String(
        (
          await postToken(emu, T, {
            client_id: BP,
            client_secret: 'bp-secret',
            grant_type: 'client_credentials',
            scope: EX,
            fmi_path: AGENT,
          })
        ).body.access_token,
      );
      const r = await postToken(emu, T, {
        client_id: AGENT,
        grant_type: 'client_credentials',
        scope: 'api://danger/.default',
        client_assertion_type: JWT_BEARER,
        client_assertion: t1,
      });
      expect(claimsOf(r.body.access_token).roles).toEqual(['Safe.Role']);
    } finally {
      await emu.close();
    }
  });
});

describe('agent identity lifecycle in the model', () => {
  it('soft delete keeps the place under the limit and leaves the agent user (orphaned); purge frees it; the id stays reserved until purged', () => {
    const d = new Directory(
      seed((t) => {
        t.agentUsers = [
          {
            id: 'd0000000-0000-4000-8000-0000000000d1',
            userPrincipalName: 'au@t.example',
            identityParentId: AGENT,
          },
        ];
      }),
    );
    const t = d.tenant(T)!;
    d.deleteAgentIdentity(T, AGENT);
    expect(t.agents.get(AGENT)?.deleted).toBe(true);
    expect(t.agentUsers.size).toBe(1);
    expect(d.locateClient(AGENT)).toBeUndefined();
    expect(d.deletedItems.has(AGENT)).toBe(true);
    expectDirectoryError(() => d.deleteAgentIdentity(T, AGENT), 404);
    expectDirectoryError(() => d.setAgentEnabled(T, AGENT, false), 404);
    expectDirectoryError(
      () => d.createAgentIdentity(T, { id: AGENT, blueprintAppId: BP, sponsors: [SPONSOR] }),
      409,
    );
    d.purgeDeleted(T, AGENT);
    expect(t.agents.has(AGENT)).toBe(false);
    expectDirectoryError(() => d.purgeDeleted(T, AGENT), 404);
    expect(d.createAgentIdentity(T, { id: AGENT, blueprintAppId: BP, sponsors: [SPONSOR] }).id).toBe(AGENT);
  });

  it('a deleted item can only be purged in its own tenant', () => {
    const T2 = '22222222-0000-4000-8000-000000000002';
    const d = new Directory({
      tenants: [
        seed().tenants[0]!,
        { id: T2, users: [{ id: SPONSOR, userPrincipalName: 's@t2.example' }], blueprints: [{ appId: BP }] },
      ],
    });
    d.deleteAgentIdentity(T, AGENT);
    expectDirectoryError(() => d.purgeDeleted(T2, AGENT), 404);
    expect(d.deletedItems.has(AGENT)).toBe(true);
    expect(d.tenant(T)!.agents.has(AGENT)).toBe(true);
    d.purgeDeleted(T, AGENT);
    expect(d.tenant(T)!.agents.has(AGENT)).toBe(false);
  });
});

describe('seed files', () => {
  let dir: string;
  const cert = createCertificate({ subject: 'file-seed-blueprint' });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentid-seed-'));
    writeFileSync(join(dir, 'bp.pem'), cert.certPem);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fileSeed = (): DirectorySeed =>
    seed(
      (t) => {
        t.blueprints![0]!.credentials = { secrets: ['bp-secret'], certificates: ['./bp.pem'] };
        t.agentUsers = [
          {
            id: 'd0000000-0000-4000-8000-0000000000d1',
            userPrincipalName: 'au@t.example',
            identityParentId: AGENT,
          },
        ];
      },
      { externalIssuers: [{ name: 'k8s' }] },
    );

  async function certificateLeg1(emu: Awaited<ReturnType<typeof createEmulator>>): Promise<number> {
    const aud = `${emu.baseUrl}/${T}/oauth2/v2.0/token`;
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({
      aud,
      iss: BP,
      sub: BP,
      jti: randomUUID(),
      nbf: now,
      iat: now,
      exp: now + 600,
    })
      .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': cert.x5tS256 })
      .sign(await importPKCS8(cert.keyPem, 'PS256'));
    const r = await postToken(emu, T, {
      client_id: BP,
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
      grant_type: 'client_credentials',
      scope: EX,
      fmi_path: AGENT,
    });
    return r.status;
  }

  for (const format of ['yaml', 'yml', 'json'] as const) {
    it(`loads a ${format.toUpperCase()} seed, reading certificates by path relative to the file; createEmulator({ seed: path }) serves it`, async () => {
      const path = join(dir, `seed.${format}`);
      writeFileSync(path, format === 'json' ? JSON.stringify(fileSeed(), null, 2) : toYaml(fileSeed()));
      const loaded = loadSeedFile(path);
      expect(loaded.tenants[0]!.blueprints![0]!.credentials!.certificates).toEqual([cert.certPem]);
      expect(loaded.tenants[0]!.blueprints![0]!.credentials!.secrets).toEqual(['bp-secret']);

      const emu = await createEmulator({ seed: path });
      try {
        const t = emu.directory.tenant(T)!;
        expect(t.agents.size).toBe(3);
        expect(t.agentUsers.get('d0000000-0000-4000-8000-0000000000d1')?.identityParentId).toBe(AGENT);
        expect(t.blueprints.get(BP)!.credentials.certificates).toEqual([cert.certPem]);
        expect(emu.directory.externalIssuers).toEqual([{ name: 'k8s' }]);
        const s = await postToken(emu, T, {
          client_id: BP,
          client_secret: 'bp-secret',
          grant_type: 'client_credentials',
          scope: EX,
          fmi_path: AGENT,
        });
        expect(s.status).toBe(200);
        // The certificate read from the file authenticates the blueprint.
        expect(await certificateLeg1(emu)).toBe(200);
      } finally {
        await emu.close();
      }
    });
  }

  it('accepts inline PEM certificates and a UTF-8 BOM; rejects missing files, non-seeds and invalid seeds', async () => {
    const inline = join(dir, 'inline.json');
    writeFileSync(
      inline,
      `\uFEFF${JSON.stringify(
        seed((t) => {
          t.blueprints![0]!.credentials = { certificates: [cert.certPem] };
        }),
      )}`,
    );
    expect(loadSeedFile(inline).tenants[0]!.blueprints![0]!.credentials!.certificates).toEqual([
      cert.certPem,
    ]);

    const missingCert = join(dir, 'missing-cert.yaml');
    writeFileSync(
      missingCert,
      toYaml(
        seed((t) => {
          t.blueprints![0]!.credentials = { certificates: ['nope.pem'] };
        }),
      ),
    );
    expect(() => loadSeedFile(missingCert)).toThrow(/nope\.pem/);

    expect(() => loadSeedFile(join(dir, 'does-not-exist.yaml'))).toThrow();
    const notSeed = join(dir, 'not-seed.yaml');
    writeFileSync(notSeed, 'hello: world\n');
    expect(() => loadSeedFile(notSeed)).toThrow(/tenants/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"tenants": [');
    expect(() => loadSeedFile(broken)).toThrow(/broken\.json/);

    const noSponsor = join(dir, 'no-sponsor.yaml');
    writeFileSync(
      noSponsor,
      toYaml(
        seed((t) => {
          t.agents![0]!.sponsors = [];
        }),
      ),
    );
    await expect(createEmulator({ seed: noSponsor })).rejects.toBeInstanceOf(DirectoryError);
  });
});
