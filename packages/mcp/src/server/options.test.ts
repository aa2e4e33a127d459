import { createBlueprint, secretCredential } from '@agentid/core';
import { describe, expect, it } from 'vitest';
import { createMcpServerAuth, type McpServerAuthOptions } from '../index.js';
import { rpcTargetOf } from './rpc.js';

const blueprint = createBlueprint({
  tenantId: '7a1c3e55-0000-4000-8000-00000000c0de',
  clientId: 'b3000000-0000-4000-8000-0000000000c3',
  credential: secretCredential('s', { silenceWarning: true }),
});
const base: McpServerAuthOptions = {
  blueprint,
  agentId: 'a6000000-0000-4000-8000-0000000000c6',
  resource: 'https://mcp.contoso.com',
  tools: { read_mail: { scopes: ['Mail.Read'] } },
};
const bad = (patch: Partial<McpServerAuthOptions>) => () => createMcpServerAuth({ ...base, ...patch });

describe('createMcpServerAuth options', () => {
  it('refuses bad options up front, naming the option', () => {
    expect(bad({ resource: 'http://mcp.contoso.com' })).toThrow(/resource must be an https URL/);
    expect(bad({ resource: 'https://mcp.contoso.com/?a=1' })).toThrow(/resource must be a URL without query/);
    expect(bad({ tools: {} })).toThrow(/tools must declare at least one tool/);
    expect(bad({ tools: { t: {} } })).toThrow(/tools\.t must name the scopes or app roles/);
    expect(bad({ tools: { t: { scopes: ['https://graph.microsoft.com/Mail.Send'] } } })).toThrow(
      /tools\.t\.scopes may only name scopes of https:\/\/mcp\.contoso\.com/,
    );
    expect(bad({ tools: { t: { scopes: ['.default'] } } })).toThrow(/may not be \.default/);
    expect(bad({ agentId: '' })).toThrow(/agentId/);
    expect(bad({ allowedOrigins: [''] })).toThrow(/allowedOrigins/);
    for (const f of [bad({ resource: 'ftp://x' }), bad({ tools: { t: {} } })])
      expect(f).toThrow(expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS' }));
  });

  it('accepts http on loopback (development) and publishes the metadata at the resource path', () => {
    const auth = createMcpServerAuth({ ...base, resource: 'http://127.0.0.1:8080/api/' });
    expect(auth.resource).toBe('http://127.0.0.1:8080/api');
    expect(auth.metadataPath).toBe('/.well-known/oauth-protected-resource/api');
    expect(auth.metadata.scopes_supported).toEqual(['http://127.0.0.1:8080/api/Mail.Read']);
    expect(auth.metadata.authorization_servers).toEqual([
      'https://login.microsoftonline.com/7a1c3e55-0000-4000-8000-00000000c0de/v2.0',
    ]);
  });
});

describe('the tools a POST calls', () => {
  const call = (name: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name } });
  it('reads the body; the headers must agree with it', () => {
    expect(rpcTargetOf({}, call('a'))).toEqual({ tools: ['a'], method: 'tools/call' });
    expect(rpcTargetOf({ 'mcp-method': 'tools/call', 'mcp-name': 'a' }, call('a')).tools).toEqual(['a']);
    expect(() => rpcTargetOf({ 'mcp-name': 'b' }, call('a'))).toThrow(/Mcp-Name/);
    expect(() => rpcTargetOf({ 'mcp-method': 'tools/list' }, call('a'))).toThrow(/Mcp-Method/);
    expect(() => rpcTargetOf({ 'mcp-name': ['a', 'a'] }, call('a'))).toThrow(/Mcp-Name/);
    expect(() => rpcTargetOf({}, call(42))).toThrow(expect.objectContaining({ code: 'AGENTID_BAD_REQUEST' }));
    // A batch: every tool it calls is authorized.
    expect(rpcTargetOf({}, [call('a'), call('b'), call('a')]).tools).toEqual(['a', 'b']);
    expect(() => rpcTargetOf({ 'mcp-method': 'tools/call' }, [call('a'), call('b')])).toThrow(/Mcp-Method/);
  });
});
