// Vercel AI SDK (`ai`) tools: give them to generateText/streamText({ tools }); here they are run directly.
import { tool } from 'ai';
import { z } from 'zod';

export const aiTools = (t) => ({
  read_mail: tool({
    description: "Reads the user's mail (through the MCP server)",
    inputSchema: z.object({}),
    execute: () => t.readMail(),
  }),
  list_files: tool({
    description: "Lists the user's files",
    inputSchema: z.object({}),
    execute: () => t.listFiles(),
  }),
});
