// LangChain.js (`@langchain/core`) tools: bind them to a chat model (model.bindTools(tools)).
import { tool } from '@langchain/core/tools';
import { z } from 'zod';

export const langChainTools = (t) => [
  tool(() => t.readMail(), {
    name: 'read_mail',
    description: "Reads the user's mail (through the MCP server)",
    schema: z.object({}),
  }),
  tool(() => t.listFiles(), {
    name: 'list_files',
    description: "Lists the user's files",
    schema: z.object({}),
  }),
];
