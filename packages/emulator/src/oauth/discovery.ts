import { issuerV1, issuerV2, tokenEndpoint } from '../context.js';

/** OpenID configuration for a tenant, v2 or v1, pointing at this emulator. */
export function openIdConfiguration(base: string, tenantId: string, v1: boolean): Record<string, unknown> {
  const t = `${base}/${tenantId}`;
  return {
    token_endpoint: v1 ? `${t}/oauth2/token` : tokenEndpoint(base, tenantId),
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: v1 ? `${t}/discovery/keys` : `${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: v1 ? issuerV1(tenantId) : issuerV2(base, tenantId),
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${base}/oidc/userinfo`,
    authorization_endpoint: v1 ? `${t}/oauth2/authorize` : `${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'nbf',
      'tid',
      'oid',
      'azp',
      'idtyp',
      'scp',
      'roles',
      'xms_par_app_azp',
      'xms_act_fct',
      'xms_sub_fct',
    ],
    tenant_region_scope: 'WW',
    cloud_instance_name: 'agentid.emulator',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

/**
 * Instance discovery answer: this emulator's host is its own (only) alias. MSAL without
 * `knownAuthorities` asks `https://login.microsoftonline.com/common/discovery/instance
 * ?api-version=1.1&authorization_endpoint=<authority>/oauth2/v2.0/authorize` (a URL it hard-codes);
 * routed here, that request names the authority it is about in `authorizationEndpoint`: its host is
 * the one answered (MSAL looks itself up in `metadata` by host), and its tenant in
 * `tenant_discovery_endpoint`, as Entra does.
 */
export function instanceDiscovery(
  base: string,
  authorizationEndpoint?: string | null,
): Record<string, unknown> {
  let origin = base;
  let tenant = '{tenant}';
  if (authorizationEndpoint) {
    try {
      const url = new URL(authorizationEndpoint);
      if (url.protocol === 'https:' || url.protocol === 'http:') {
        origin = url.origin;
        tenant = url.pathname.split('/')[1] || tenant;
      }
    } catch {
      // Not a URL: answer for the emulator itself.
    }
  }
  const host = new URL(origin).host;
  return {
    tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
