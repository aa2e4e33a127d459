import fc from 'fast-check';

// Property tests are reproducible by default (CI must not turn red on a new random draw); set
// FC_SEED=random to explore new inputs locally, or FC_SEED=<n> to replay a reported failure.
const seed = process.env.FC_SEED;
if (seed !== 'random') fc.configureGlobal({ seed: seed ? Number(seed) : 20_261_125 });
