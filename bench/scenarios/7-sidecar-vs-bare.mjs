// Scenario 7: the sidecar's /AuthorizationHeaderUnauthenticated at cache hit beside a bare `node:http`
// server that sends the same bytes (status, headers, body), in one run: requests/s ratio at 1 and 32
// connections, and server CPU per request (this process's CPU over the run; the load comes from a
// second process). The bare server is the floor: parsing HTTP and writing the answer.
import { createServer } from 'node:http';
import { startSidecar } from '../lib/sidecar.mjs';
import { load, stopLoad } from '../lib/load.mjs';
import { emit, quick } from '../lib/measure.mjs';

const duration = quick ? 1 : 5;
const { url, path, first, close } = await startSidecar();
const body = Buffer.from(await first.text());
// The same header names and values the sidecar sent (but the date, which node:http adds itself).
const headers = [...first.headers].filter(
  ([k]) => !['date', 'connection', 'keep-alive', 'transfer-encoding'].includes(k),
);
const bare = createServer((req, res) => {
  res.writeHead(200, headers.flat());
  res.end(body);
});
await new Promise((resolve) => bare.listen(0, '127.0.0.1', resolve));
const bareUrl = `http://127.0.0.1:${bare.address().port}`;

const run = (base, connections) => load(base + path, { connections, duration });
await run(url, 8); // warm-up, discarded
await run(bareUrl, 8);
const mid = (xs, k) => xs.map((x) => x[k]).sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const rows = [];
for (const connections of [1, 32]) {
  // Interleaved rounds, bare then sidecar; medians of three of each.
  const s = [];
  const b = [];
  for (let i = 0; i < 3; i++) {
    b.push(await run(bareUrl, connections));
    s.push(await run(url, connections));
  }
  rows.push({
    connections,
    sidecar_rps: mid(s, 'rps'),
    bare_rps: mid(b, 'rps'),
    rps_ratio: mid(s, 'rps') / mid(b, 'rps'),
    sidecar_cpu_us: mid(s, 'server_cpu_us_per_request'),
    bare_cpu_us: mid(b, 'server_cpu_us_per_request'),
    extra_cpu_us_per_request: mid(s, 'server_cpu_us_per_request') - mid(b, 'server_cpu_us_per_request'),
    non2xx: s.reduce((n, x) => n + x.non2xx, 0),
  });
}
await stopLoad();
await new Promise((resolve) => bare.close(resolve));
await close();
emit({ scenario: 7, name: 'sidecar vs a bare node:http server sending the same bytes', rows });
