/**
 * Where the CLI reads and writes, injectable for tests.
 *
 * @example
 * ```ts
 * const io: CliIo = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env, readStdin: async () => '' };
 * ```
 */
export interface CliIo {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Reads all of standard input (for `-` arguments). */
  readStdin(): Promise<string>;
}

/** Thrown for a usage mistake: printed with the usage, exit code 2. @internal */
export class UsageError extends Error {}
