import type { Agent } from '@agentid/core';
import {
  type BlueprintServices,
  errorFromTokenResponse,
  type Exchange,
  MalformedResponseError,
} from '@agentid/core/broker';

/** MSAL's answer type, as the broker's `Exchange.send` returns it (no dependency on MSAL here). */
type AuthenticationResult = NonNullable<Awaited<ReturnType<Exchange['send']>>>;

/**
 * A token answer that carries a refresh token: the access token as the broker converts it
 * (`accessToken`, `expiresOn`, `refreshOn`; the other fields are never read), and the refresh
 * token beside it, never inside anything that is cached, logged or returned.
 */
export interface RefreshableAnswer {
  readonly result: AuthenticationResult;
  readonly refreshToken: string | undefined;
}

const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Posts one token request as the agent identity, T1 as its client assertion, with the blueprint's
 * HTTP client (timeouts, transport retries, spans). Sent directly rather than by MSAL: MSAL never
 * returns a refresh token (it keeps it in its token cache, which the broker empties after every
 * request and which concurrent requests of the agent share), so the refresh token could only be
 * read back from a cache another request may have just cleared. 4xx answers become the same
 * typed errors as MSAL's (`errorFromTokenResponse`).
 */
export async function postAgentTokenRequest(
  services: BlueprintServices,
  agent: Agent,
  fields: Readonly<Record<string, string>>,
  clientAssertion: string,
  signal: AbortSignal,
): Promise<RefreshableAnswer> {
  const body = new URLSearchParams({
    client_id: agent.id,
    ...fields,
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: clientAssertion,
  }).toString();
  const url = `${services.authorityHost}/${agent.tenantId}/oauth2/v2.0/token`;
  const res = await services.http.request({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
    signal,
  });
  if (res.status < 200 || res.status >= 300)
    throw errorFromTokenResponse({
      status: res.status,
      body: res.body,
      headers: res.headers,
      now: services.clock.now(),
    });
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    // No cause: the parser's message quotes the body, which holds tokens.
    throw new MalformedResponseError(`POST ${url} answered HTTP ${res.status} with a body that is not JSON`, {
      status: res.status,
    });
  }
  const accessToken = json.access_token;
  const expiresIn = Number(json.expires_in);
  if (typeof accessToken !== 'string' || accessToken === '' || !Number.isFinite(expiresIn))
    throw new MalformedResponseError(`POST ${url} answered without access_token and expires_in`, {
      status: res.status,
    });
  // The broker converts times back against the real clock (as it does MSAL's stamps).
  const received = Date.now();
  const refreshIn = Number(json.refresh_in);
  const result = {
    accessToken,
    expiresOn: new Date(received + expiresIn * 1000),
    ...(Number.isFinite(refreshIn) && refreshIn > 0
      ? { refreshOn: new Date(received + refreshIn * 1000) }
      : {}),
  } as AuthenticationResult;
  const refreshToken =
    typeof json.refresh_token === 'string' && json.refresh_token !== '' ? json.refresh_token : undefined;
  return { result, refreshToken };
}
