import { AgentIdError } from '@agentid/core';

/** What the JSON-RPC body of one POST asks for. @internal */
export interface RpcTarget {
  /** Names of the tools it calls (`tools/call`), in order, without repeats. */
  readonly tools: readonly string[];
  /** The method of a single message (for `mcp.method.name`). */
  readonly method?: string;
}

const header = (v: string | readonly string[] | undefined): string | undefined =>
  Array.isArray(v) ? (v.length === 1 ? (v[0] as string) : '\u0000') : (v as string | undefined);

const mismatch = (what: string): AgentIdError =>
  new AgentIdError('AGENTID_BAD_REQUEST', `The ${what} header does not agree with the JSON-RPC body`);

/**
 * The tools a POST calls, from the JSON-RPC body, checked against the `Mcp-Method` and `Mcp-Name`
 * headers (SEP-2243) when present: a proxy may route or authorize on the headers, so a body that
 * says otherwise is refused (400) instead of being authorized on one and run on the other.
 * @internal
 */
export function rpcTargetOf(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  body: unknown,
): RpcTarget {
  const messages = Array.isArray(body) ? body : [body];
  const tools: string[] = [];
  for (const m of messages) {
    if (!m || typeof m !== 'object' || (m as { method?: unknown }).method !== 'tools/call') continue;
    const name = (m as { params?: { name?: unknown } }).params?.name;
    if (typeof name !== 'string')
      throw new AgentIdError('AGENTID_BAD_REQUEST', 'A tools/call request must name its tool');
    if (!tools.includes(name)) tools.push(name);
  }
  const single = messages.length === 1 ? (messages[0] as { method?: unknown } | null) : undefined;
  const method = typeof single?.method === 'string' ? single.method : undefined;
  const hMethod = header(headers['mcp-method']);
  if (hMethod !== undefined && (messages.length !== 1 || hMethod !== method)) throw mismatch('Mcp-Method');
  const hName = header(headers['mcp-name']);
  if (hName !== undefined && method === 'tools/call' && (tools.length !== 1 || tools[0] !== hName))
    throw mismatch('Mcp-Name');
  return method === undefined ? { tools } : { tools, method };
}
