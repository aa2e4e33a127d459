import { describe, expect, it } from 'vitest';
import { createBearerReader } from './bearer.js';

const sig = (c: string) => c.repeat(342);
const header = (payload: string, s = sig('s')) => `Bearer eyJhbGciOiJSUzI1NiJ9.${payload}.${s}`;
const tokenOf = (h: string) => h.slice('Bearer '.length);

describe('createBearerReader', () => {
  it('knows a remembered header, only for the exact same characters', () => {
    const r = createBearerReader();
    const h = header('eyJvaWQiOiJhIn0');
    expect(r.known(h)).toBeUndefined();
    r.remember(h, tokenOf(h));
    expect(r.known(h)).toBe(tokenOf(h));
    expect(r.known(Buffer.from(h).toString())).toBe(tokenOf(h));
    // Same last characters (signature), another payload: not the same header.
    expect(r.known(header('eyJvaWQiOiJiIn0'))).toBeUndefined();
    expect(r.known(`${h} `)).toBeUndefined();
    expect(r.known(h.replace('Bearer', 'bearer'))).toBeUndefined();
    expect(r.known([h])).toBeUndefined();
    expect(r.known([h, h])).toBeUndefined();
    expect(r.known(undefined)).toBeUndefined();
  });

  it('replaces a remembered header that shares the index, and stays bounded by count and characters', () => {
    const r = createBearerReader(4, 5_000);
    const a = header('eyJhIjoxfQ');
    const b = header('eyJiIjoxfQ');
    r.remember(a, tokenOf(a));
    r.remember(b, tokenOf(b));
    expect(r.known(a)).toBeUndefined();
    expect(r.known(b)).toBe(tokenOf(b));
    const many = ['1', '2', '3', '4', '5', '6'].map((c) => header('eyJ9', sig(c)));
    for (const h of many) r.remember(h, tokenOf(h));
    // At most 4 headers: the oldest go first, the latest stay (misses and recent hits change nothing).
    const held = (reader: typeof r) =>
      [many[0], many[1], many[5], many[4]].map((h) => reader.known(h!) !== undefined);
    expect(held(r)).toEqual([false, false, true, true]);
    // 1,600 characters hold four of these headers (~380 each).
    const small = createBearerReader(100, 1_600);
    for (const h of many) small.remember(h, tokenOf(h));
    expect(held(small)).toEqual([false, false, true, true]);
    // A header longer than the bounds allow is not remembered.
    const tiny = createBearerReader(100, 500);
    tiny.remember(many[0]!, tokenOf(many[0]!));
    expect(tiny.known(many[0]!)).toBeUndefined();
  });

  it('keeps a header that is still in use through rotations', () => {
    const r = createBearerReader(4);
    const hot = header('eyJob3QiOjF9');
    r.remember(hot, tokenOf(hot));
    for (let i = 0; i < 50; i++) {
      const h = header('eyJ9', sig(String(i % 10)));
      r.remember(h, tokenOf(h));
      expect(r.known(hot)).toBe(tokenOf(hot));
    }
  });
});
