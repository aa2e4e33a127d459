// Timing helpers: warm-up, several batches, median of batches (noise: other processes on 2 cores).
export async function perOp(fn, { ops = 20_000, batches = 5, warmup = 2_000 } = {}) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const results = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) await fn(i);
    results.push(Number(process.hrtime.bigint() - t0) / ops / 1000);
  }
  results.sort((a, c) => a - c);
  return results[Math.floor(results.length / 2)];
}
export const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(2)} µs`);
export function emit(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}
export const quick = process.argv.includes('--quick');
