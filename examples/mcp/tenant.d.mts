// Types of tenant.mjs (the tests of @agentid/mcp use it).
import type { Blueprint } from '@agentid/core';
import type { Emulator } from '@agentid/emulator';
import type { TracerProvider } from '@opentelemetry/api';

export declare const MCP: {
  readonly blueprint: { readonly appId: string; readonly secret: string };
  readonly agent: string;
};
export declare function mcpTenant(
  resource: string,
  options?: { tracerProvider?: TracerProvider; onTokenRequest?: (body: string) => void },
): Promise<{
  emu: Emulator;
  server: Blueprint;
  orchestrator: Blueprint;
  workers: Blueprint;
  aliceToken(): Promise<string>;
}>;
