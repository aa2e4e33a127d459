// A replica of an agent service in its own process (replica.mjs), driven over IPC.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPLICA = fileURLToPath(new URL('./replica.mjs', import.meta.url));

export interface Reply {
  id: number;
  ok?: number;
  failures?: string[];
  progress?: number;
  error?: string;
  store?: { l2Hits: number };
  l2?: { hits: number; bypassed: number; errors: number; writes: number; breakerOpens: number };
  breaker?: string;
  roundMs?: number[];
  /** The first message: with `coldAgents` in the config, the result of using them at start-up. */
  cold?: Reply;
}

export class Replica {
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (r: Reply) => void; onProgress?: (n: number) => void }
  >();
  private constructor(
    private readonly child: ChildProcess,
    /** What the replica sent when it started. */
    readonly first: Reply,
  ) {
    child.on('message', (m: Reply) => {
      const w = this.waiting.get(m.id);
      if (w === undefined) return;
      if (m.progress !== undefined && m.ok === undefined) return w.onProgress?.(m.progress);
      this.waiting.delete(m.id);
      w.resolve(m);
    });
  }
  static start(config: object): Promise<Replica> {
    const { NODE_OPTIONS: _omit, ...env } = process.env;
    const child = fork(REPLICA, [], {
      execArgv: [],
      env: { ...env, AGENTID_REPLICA: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`replica exited with ${code} before it was ready (did you run npm run build?)`)),
      );
      child.once('message', (m: Reply) => resolve(new Replica(child, m)));
    });
  }
  send(msg: object, onProgress?: (n: number) => void): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, ...(onProgress ? { onProgress } : {}) });
      this.child.send({ ...msg, id });
    });
  }
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'close', id: 0 });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
