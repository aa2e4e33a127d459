// OpenAI Agents SDK (`@openai/agents`) function tools: give them to new Agent({ tools }).
import { tool } from '@openai/agents';
import { z } from 'zod';

export const openAiTools = (t) => [
  tool({
    name: 'read_mail',
    description: "Reads the user's mail (through the MCP server)",
    parameters: z.object({}),
    execute: () => t.readMail(),
  }),
  tool({
    name: 'list_files',
    description: "Lists the user's files",
    parameters: z.object({}),
    execute: () => t.listFiles(),
  }),
];
