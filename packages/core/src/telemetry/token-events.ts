import { isAgentIdError } from '../errors/agent-id-error.js';
import type { HttpAttempt } from '../http/client.js';
import type { Telemetry } from './telemetry.js';

/** The error type of a failure, as `error.type` takes it: our code, else the error's class name. */
export function errorTypeOf(error: unknown): string {
  if (isAgentIdError(error)) return error.code;
  return error instanceof Error ? error.name : 'Error';
}

/**
 * Conditional Access refused the request: an interaction the agent cannot satisfy (MFA, sign-in
 * again) or a policy block (AADSTS53xxx: non-compliant device, blocked by policy).
 */
export function isConditionalAccessBlock(error: unknown): boolean {
  if (!isAgentIdError(error)) return false;
  const aadsts = error.aadsts;
  return (
    error.code === 'AGENTID_INTERACTION_REQUIRED' ||
    (aadsts !== undefined && aadsts >= 53000 && aadsts < 54000)
  );
}

/** What is safe to log of a failure: code, AADSTS, correlation id, status (the redacting logger reduces the rest). */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!isAgentIdError(error)) return { error };
  const fields: Record<string, unknown> = { code: error.code };
  if (error.aadsts !== undefined) fields['aadsts'] = error.aadsts;
  if (error.status !== undefined) fields['status'] = error.status;
  if (error.correlationId !== undefined) fields['correlationId'] = error.correlationId;
  if (error.traceId !== undefined) fields['traceId'] = error.traceId;
  return fields;
}

/**
 * Records one token request sent to Entra (`agentid.token.requests`, and its duration) and logs
 * a Conditional Access block. `startedMs` is from `performance.now()`: a measurement, not a
 * decision, so the real monotonic clock is right even when the blueprint's clock is injected.
 */
export function tokenRequestDone(
  telemetry: Telemetry,
  flow: string,
  startedMs: number,
  error?: unknown,
): void {
  const seconds = (performance.now() - startedMs) / 1000;
  telemetry.metrics.tokenRequest(flow, seconds, error === undefined ? undefined : errorTypeOf(error));
  if (error !== undefined && isConditionalAccessBlock(error))
    telemetry.logger.warn('agentid: Conditional Access blocked a token request', {
      flow,
      ...errorFields(error),
    });
}

/** The broker's one retry (Entra rejected T1): counted and logged. */
export function clientAssertionRetry(telemetry: Telemetry, flow: string, error: unknown): void {
  telemetry.metrics.retry('client_assertion_rejected', flow);
  telemetry.logger.warn('agentid: Entra rejected the client assertion (T1); retrying once with a fresh one', {
    flow,
    ...errorFields(error),
  });
}

/** Why the HTTP client sends a request again: `http_<status>`, `timeout` or `network`. */
export function retryReasonOf(attempt: HttpAttempt): string {
  if (attempt.status !== undefined) return `http_${attempt.status}`;
  return attempt.error?.code === 'AGENTID_TIMEOUT' ? 'timeout' : 'network';
}

/**
 * The blueprint's HTTP client's `onAttempt`: each retry is counted (`agentid.token.retries`)
 * and logged at `warn` with its reason, attempt and delay (the URL is origin and path only).
 */
export function httpAttemptObserver(telemetry: Telemetry): (attempt: HttpAttempt) => void {
  return (attempt) => {
    if (attempt.retryInMs === undefined) return;
    const reason = retryReasonOf(attempt);
    telemetry.metrics.retry(reason);
    telemetry.logger.warn('agentid: HTTP request failed; retrying', {
      reason,
      method: attempt.method,
      url: attempt.url,
      attempt: attempt.attempt,
      retryInMs: attempt.retryInMs,
      ...(attempt.status !== undefined ? { status: attempt.status } : {}),
      ...(attempt.error !== undefined ? errorFields(attempt.error) : {}),
    });
  };
}
