#!/usr/bin/env node
// The agentid-emulator bin. Committed (dist/ is built), so that npm links it into node_modules/.bin at
// install time, before the first build: `npm ci && npm run build && npx agentid-emulator --help`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'agentid-emulator: @agentid/emulator is not built yet (no dist/bin.js): run `npm run build` first\n',
  );
  process.exit(1);
}
await import(entry.href);
