import { Writable } from 'node:stream';
import { pino } from 'pino';
import winston from 'winston';
import { describe, expect, it } from 'vitest';
import { createRedactingLogger } from './logger.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

/** A stream collecting JSON lines. */
function jsonLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

describe('createRedactingLogger with real loggers', () => {
  it('pino keeps the structured fields (it takes them first), redacted', () => {
    const { lines, stream } = jsonLines();
    const logger = createRedactingLogger(pino({ level: 'debug' }, stream));
    logger.warn('retrying', { reason: 'http_503', attempt: 1, note: `Bearer ${JWT}` });
    logger.info('plain');
    expect(lines[0]).toMatchObject({ level: 40, msg: 'retrying', reason: 'http_503', attempt: 1 });
    expect(JSON.stringify(lines)).not.toContain(JWT);
    expect(lines[1]).toMatchObject({ level: 30, msg: 'plain' });
  });

  it('a pino child logger is recognised too', () => {
    const { lines, stream } = jsonLines();
    createRedactingLogger(pino(stream).child({ component: 'agentid' })).error('failed', { code: 'X' });
    expect(lines[0]).toMatchObject({ component: 'agentid', msg: 'failed', code: 'X' });
  });

  it('winston takes (message, fields) as it is', () => {
    const { lines, stream } = jsonLines();
    const w = winston.createLogger({
      level: 'debug',
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream })],
    });
    createRedactingLogger(w).warn('retrying', { reason: 'http_429', token: JWT });
    expect(lines[0]).toMatchObject({ level: 'warn', message: 'retrying', reason: 'http_429' });
    expect(JSON.stringify(lines)).not.toContain(JWT);
  });

  it('console-shaped loggers get (message, fields)', () => {
    const calls: unknown[][] = [];
    createRedactingLogger({ info: (...args: unknown[]) => void calls.push(args) }).info('m', { a: 1 });
    expect(calls).toEqual([['m', { a: 1 }]]);
  });
});
