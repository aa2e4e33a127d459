// Load from a second process (autocannon), so that the process under test measures only its own
// CPU: `load(url, { connections, duration })` resolves to autocannon's figures and the server
// process's CPU microseconds per request over the run.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const { default: autocannon } = await import('autocannon');
  process.on('message', ({ url, connections, duration }) => {
    autocannon({ url, connections, duration }, (err, r) => {
      process.send(
        err
          ? { error: String(err) }
          : {
              rps: r.requests.average,
              total: r.requests.total,
              p50_ms: r.latency.p50,
              p99_ms: r.latency.p99,
              non2xx: r.non2xx,
              errors: r.errors,
            },
      );
    });
  });
  process.send({ ready: true });
}

let child;
function loader() {
  if (child) return child;
  child = new Promise((resolve, reject) => {
    const c = fork(self, ['--child'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    c.once('error', reject);
    c.once('message', () => resolve(c));
  });
  return child;
}

export async function load(url, { connections, duration }) {
  const c = await loader();
  const cpu0 = process.cpuUsage();
  const r = await new Promise((resolve) => {
    c.once('message', resolve);
    c.send({ url, connections, duration });
  });
  const cpu = process.cpuUsage(cpu0);
  if (r.error) throw new Error(r.error);
  return { ...r, connections, server_cpu_us_per_request: (cpu.user + cpu.system) / Math.max(1, r.total) };
}

export async function stopLoad() {
  if (child) (await child).kill();
  child = undefined;
}
