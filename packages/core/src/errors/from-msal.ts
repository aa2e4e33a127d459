import {
  type AgentIdError,
  ConfigurationError,
  findAgentIdError,
  MalformedResponseError,
  NetworkError,
  UnexpectedError,
} from './agent-id-error.js';
import { errorFromTokenResponse } from './from-token-response.js';

// Duck-typed view of MSAL's AuthError family, so this works across MSAL copies and versions.
interface MsalLikeError {
  name?: unknown;
  message?: unknown;
  errorCode?: unknown;
  errorMessage?: unknown;
  subError?: unknown;
  errorNo?: unknown;
  status?: unknown;
  correlationId?: unknown;
  traceId?: unknown;
  claims?: unknown;
}

const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

// MSAL's ServerError message is "Error(s): <codes> - Timestamp: … - Description: <text> -
// Correlation ID: … - Trace ID: …"; only <text> is the server's description.
function descriptionOf(errorMessage: string | undefined): string | undefined {
  if (errorMessage === undefined) return undefined;
  const m = /Description: ([\s\S]*?) - Correlation ID:/.exec(errorMessage);
  return m?.[1] ?? errorMessage;
}

/**
 * Maps an error thrown by MSAL Node to a typed {@link AgentIdError}. An AgentIdError found in
 * the cause chain (thrown by our own network module or assertion callback) wins; MSAL
 * `ServerError`/`InteractionRequiredAuthError` go through {@link errorFromTokenResponse};
 * MSAL's `network_error` becomes {@link NetworkError}; configuration errors
 * {@link ConfigurationError}; anything else {@link UnexpectedError}. `cause` is the original.
 *
 * Prefer the failure captured by `toMsalNetworkModule(...).run()`, which has the exact HTTP
 * answer; this is the fallback when MSAL failed before or without the network.
 *
 * @example
 * ```ts
 * try { await cca.acquireTokenByClientCredential(req); } catch (e) { throw errorFromMsalError(e); }
 * ```
 */
export function errorFromMsalError(error: unknown): AgentIdError {
  const typed = findAgentIdError(error);
  if (typed !== undefined) return typed;
  if (error === null || typeof error !== 'object') {
    return new UnexpectedError(`MSAL failed: ${String(error)}`, { cause: error });
  }
  const e = error as MsalLikeError;
  const name = s(e.name);
  const errorCode = s(e.errorCode);
  const errorMessage = s(e.errorMessage) ?? s(e.message);

  if (name === 'ServerError' || name === 'InteractionRequiredAuthError') {
    const aadsts =
      s(e.errorNo) ?? (errorCode !== undefined && /^\d+$/.test(errorCode) ? errorCode : undefined);
    const status = typeof e.status === 'number' ? e.status : 400;
    const body: Record<string, unknown> = {
      // MSAL's throttling cache rethrows with numeric codes in errorCode: that is no OAuth error.
      error: errorCode !== undefined && !/^[\d ]+$/.test(errorCode) ? errorCode : undefined,
      error_description: descriptionOf(errorMessage),
      error_codes: aadsts !== undefined ? [Number(aadsts)] : undefined,
      suberror: s(e.subError),
      claims: s(e.claims),
      correlation_id: s(e.correlationId),
      trace_id: s(e.traceId),
    };
    return errorFromTokenResponse({ status, body, cause: error });
  }
  if (
    errorCode === 'network_error' ||
    errorCode === 'no_network_connectivity' ||
    errorCode === 'endpoints_resolution_error'
  ) {
    return new NetworkError(`MSAL could not reach the token service: ${errorMessage ?? errorCode}`, {
      cause: error,
    });
  }
  if (errorCode === 'token_parsing_error') {
    return new MalformedResponseError(`MSAL could not parse a response: ${errorMessage ?? errorCode}`, {
      cause: error,
    });
  }
  if (name === 'ClientConfigurationError') {
    return new ConfigurationError(
      `MSAL rejected the configuration: ${errorMessage ?? errorCode ?? 'unknown'}`,
      { cause: error },
    );
  }
  return new UnexpectedError(`MSAL failed: ${errorMessage ?? errorCode ?? name ?? 'unknown error'}`, {
    cause: error,
  });
}
