// The same two tools in three agent frameworks, each call with a token for that tool only. No model:
// the tools are invoked as a framework would invoke them. Run after `npm run build`.
import { RunContext } from '@openai/agents';
import { startAgent } from './agent.mjs';
import { langChainTools } from './langchain.mjs';
import { openAiTools } from './openai-agents.mjs';
import { aiTools } from './vercel-ai.mjs';

const agent = await startAgent();
const ai = aiTools(agent.tools);
const openai = openAiTools(agent.tools);
const lc = langChainTools(agent.tools);
const out = {
  'ai read_mail': await ai.read_mail.execute({}, { toolCallId: 'call-1', messages: [] }),
  'ai list_files': await ai.list_files.execute({}, { toolCallId: 'call-2', messages: [] }),
  '@openai/agents read_mail': await openai[0].invoke(new RunContext(), '{}'),
  '@openai/agents list_files': await openai[1].invoke(new RunContext(), '{}'),
  '@langchain/core read_mail': await lc[0].invoke({}),
  '@langchain/core list_files': await lc[1].invoke({}),
};
for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(28)} ${v}`);
await agent.close();
