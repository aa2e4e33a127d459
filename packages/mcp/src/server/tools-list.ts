import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

type Id = string | number;

/**
 * Makes `tools/list` answers on `transport` list only the tools the requesting caller may call
 * (`visible(authInfo)`): call it after `server.connect(transport)`. It works on the SDK's public
 * `Transport` (the request's `authInfo` as the transport hands it over, the answer as the server
 * sends it), so it applies to stateless and stateful servers alike. A request without `authInfo`
 * sees no tools.
 * @internal
 */
export function filterToolsListOn<T extends Transport>(
  transport: T,
  visible: (authInfo: AuthInfo | undefined) => readonly string[],
): T {
  const onmessage = transport.onmessage;
  if (typeof onmessage !== 'function')
    throw new TypeError('filterToolsList: connect the server to the transport first');
  const pending = new Map<Id, AuthInfo | undefined>();
  transport.onmessage = (message, extra) => {
    const m = message as { method?: unknown; id?: unknown };
    if (m.method === 'tools/list' && (typeof m.id === 'string' || typeof m.id === 'number'))
      pending.set(m.id, extra?.authInfo);
    onmessage.call(transport, message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options) => {
    const m = message as { id?: Id; result?: { tools?: { name: string }[] } };
    if (m.id !== undefined && pending.has(m.id)) {
      const authInfo = pending.get(m.id);
      pending.delete(m.id);
      if (Array.isArray(m.result?.tools)) {
        const allowed = new Set(visible(authInfo));
        message = {
          ...m,
          result: { ...m.result, tools: m.result.tools.filter((t) => allowed.has(t.name)) },
        } as unknown as JSONRPCMessage;
      }
    }
    return send(message, options);
  };
  return transport;
}
