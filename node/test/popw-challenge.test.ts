import { expect } from "chai";
import fc from "fast-check";

import {
  MAX_ENTRY,
  MAX_N,
  Xoshiro128ss,
  challengeMatrices,
  cpuKernel,
  createRng,
  decodeProduct,
  encodeProduct,
  freivaldsMissBound,
  freivaldsVerify,
  maxEntryBits,
  maxProductEntry,
  newChallenge,
  parseSeed,
  seedHex,
  seededMatrix,
  solveChallenge,
  verifyAnswer,
  type Challenge,
} from "../src/popw";

/** Seeded like the repository's other property tests: `KAISAR_FC_SEED` replays a failure. */
const FC_PARAMS = { seed: Number(process.env.KAISAR_FC_SEED ?? 4_096), numRuns: 100 };

/** The textbook triple loop, as the reference for kernels. */
function naiveMultiply(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  return c;
}

const seedArb = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });

describe("popw", () => {
  describe("Xoshiro128ss", () => {
    it("matches the reference xoshiro128** sequence from state (1, 2, 3, 4)", () => {
      const g = Xoshiro128ss.fromState([1, 2, 3, 4]);
      const out = Array.from({ length: 10 }, () => g.nextU32());
      expect(out, "reference outputs").to.deep.equal([
        11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
      ]);
    });

    it("pins its outputs for two seeds (a change here changes every challenge on every machine)", () => {
      const take = (seed: string | number, stream = 0) => {
        const g = createRng(seed, stream);
        return Array.from({ length: 4 }, () => g.nextU32());
      };
      expect(take(0), "seed 0").to.deep.equal([3809008728, 1133695204, 53579671, 2891528803]);
      expect(take("0x0"), "seed 0, hex").to.deep.equal(take(0));
      expect(take("0x0123456789abcdef0123456789abcdef", 1), "a 128-bit seed, stream 1").to.deep.equal([
        1145501354, 2584004057, 856897188, 4206788271,
      ]);
    });

    it("is deterministic per (seed, stream) and separates streams and neighbouring seeds", () => {
      fc.assert(
        fc.property(seedArb, (seed) => {
          const take = (s: bigint, stream = 0) => {
            const g = createRng(s, stream);
            return Array.from({ length: 8 }, () => g.nextU32()).join(",");
          };
          expect(take(seed), "replay").to.equal(take(seed));
          expect(take(seed, 1), "stream 1").to.not.equal(take(seed, 0));
          expect(take(seed ^ 1n), "seed with its low bit flipped").to.not.equal(take(seed));
        }),
        FC_PARAMS,
      );
    });

    it("produces roughly uniform bits", () => {
      const rng = createRng(12_345);
      let ones = 0;
      for (let i = 0; i < 10_000; i++) {
        let v = rng.nextU32();
        for (; v; v &= v - 1) ones++;
      }
      expect(ones / 320_000, "share of one bits").to.be.within(0.49, 0.51);
    });

    it("parses seeds and refuses malformed ones", () => {
      expect(parseSeed("0xff"), "hex").to.equal(255n);
      expect(seedHex(255), "canonical hex").to.equal("0x000000000000000000000000000000ff");
      expect(() => parseSeed("ff"), "no 0x").to.throw(RangeError);
      expect(() => parseSeed("0x" + "1".repeat(33)), "more than 128 bits").to.throw(RangeError);
      expect(() => parseSeed(-1n), "negative").to.throw(RangeError);
      expect(() => parseSeed(1.5), "fraction").to.throw(RangeError);
      expect(() => createRng(1, 70_000), "stream out of range").to.throw(RangeError);
    });
  });

  describe("seededMatrix", () => {
    it("has integer entries in 0..255, the same on every call", () => {
      fc.assert(
        fc.property(seedArb, fc.integer({ min: 1, max: 40 }), (seed, n) => {
          const m = seededMatrix(seed, n);
          expect(m.length, "n x n").to.equal(n * n);
          expect(
            m.every((v) => Number.isInteger(v) && v >= 0 && v <= MAX_ENTRY),
            "entries",
          ).to.be.true;
          expect(Buffer.from(seededMatrix(seed, n).buffer).equals(Buffer.from(m.buffer)), "replay").to.be.true;
        }),
        FC_PARAMS,
      );
    });

    it("pins the entries of seed 1 (cross-machine determinism)", () => {
      expect(Array.from(seededMatrix(1, 4)), "4 x 4").to.deep.equal([
        88, 220, 8, 227, 122, 199, 204, 249, 225, 134, 107, 5, 152, 173, 25, 241,
      ]);
      const rng = createRng(1);
      const w = rng.nextU32();
      expect(Array.from(seededMatrix(1, 1)), "1 x 1: the low byte of the first output").to.deep.equal([w & 0xff]);
    });

    it("refuses sizes outside 1..4096", () => {
      expect(() => seededMatrix(1, 0), "0").to.throw(RangeError);
      expect(() => seededMatrix(1, MAX_N + 1), "4097").to.throw(RangeError);
      expect(() => seededMatrix(1, 2.5), "fraction").to.throw(RangeError);
    });

    it("keeps the largest product and Freivalds sums exact in float64 up to n = 4096", () => {
      const n = MAX_N;
      expect(maxProductEntry(n) * n * 2 ** maxEntryBits(n), "C * r bound").to.be.at.most(Number.MAX_SAFE_INTEGER);
      expect(maxEntryBits(n), "10-bit vectors allowed at 4096").to.equal(10);
    });
  });

  describe("cpuKernel", () => {
    it("equals the naive product", () => {
      fc.assert(
        fc.property(seedArb, fc.integer({ min: 1, max: 24 }), (seed, n) => {
          const a = seededMatrix(seed, n, 0);
          const b = seededMatrix(seed, n, 1);
          expect(Array.from(cpuKernel.multiply(a, b, n)), "product").to.deep.equal(Array.from(naiveMultiply(a, b, n)));
        }),
        FC_PARAMS,
      );
    });

    it("refuses matrices of the wrong size", () => {
      expect(() => cpuKernel.multiply(new Float64Array(4), new Float64Array(9), 2), "B is 3 x 3").to.throw(RangeError);
    });
  });

  describe("freivaldsVerify", () => {
    const productArb = fc.tuple(seedArb, fc.integer({ min: 1, max: 32 })).map(([seed, n]) => {
      const a = seededMatrix(seed, n, 0);
      const b = seededMatrix(seed, n, 1);
      return { n, a, b, c: cpuKernel.multiply(a, b, n) };
    });

    it("accepts every correct product (0/1 vectors and 10-bit vectors)", () => {
      fc.assert(
        fc.property(productArb, fc.integer({ min: 0, max: 2 ** 31 }), ({ n, a, b, c }, rngSeed) => {
          expect(freivaldsVerify(a, b, c, n, 10, createRng(rngSeed)), "0/1").to.be.true;
          expect(freivaldsVerify(a, b, c, n, 2, createRng(rngSeed), { entryBits: 10 }), "10-bit").to.be.true;
        }),
        FC_PARAMS,
      );
    });

    it("rejects a product with any single entry changed (20 rounds: a miss has probability 2^-20)", () => {
      fc.assert(
        fc.property(
          productArb,
          fc.nat(),
          fc.integer({ min: 1, max: 1_000 }),
          fc.boolean(),
          fc.integer({ min: 0, max: 2 ** 31 }),
          ({ n, a, b, c }, at, delta, down, rngSeed) => {
            const wrong = c.slice();
            const i = at % (n * n);
            // Keep the entry in range, so that Freivalds itself (not the range check) has to catch it.
            wrong[i] = down && c[i] >= delta ? c[i] - delta : c[i] + delta;
            expect(freivaldsVerify(a, b, wrong, n, 20, createRng(rngSeed)), `entry ${i} changed`).to.be.false;
            expect(freivaldsVerify(a, b, wrong, n, 2, createRng(rngSeed), { entryBits: 10 }), "10-bit").to.be.false;
          },
        ),
        FC_PARAMS,
      );
    });

    it("misses a single wrong entry at most about 2^-10 of the time with 10 rounds", () => {
      const n = 16;
      const a = seededMatrix(5, n, 0);
      const b = seededMatrix(5, n, 1);
      const c = cpuKernel.multiply(a, b, n);
      const rng = createRng(2_024);
      const trials = 20_000;
      let misses = 0;
      for (let t = 0; t < trials; t++) {
        const wrong = c.slice();
        wrong[t % (n * n)] += 1;
        if (freivaldsVerify(a, b, wrong, n, 10, rng)) misses++;
      }
      // Expected 20_000 / 1024 = 19.5 (the fixed seed makes the count a constant: 17).
      expect(misses, "misses").to.be.at.most(Math.ceil(trials * freivaldsMissBound(10) * 1.5));
    });

    it("takes any number of rounds, each halving the chance of a miss", () => {
      const n = 16;
      const a = seededMatrix(6, n, 0);
      const b = seededMatrix(6, n, 1);
      const c = cpuKernel.multiply(a, b, n);
      for (let rounds = 1; rounds <= 23; rounds++) {
        expect(freivaldsVerify(a, b, c, n, rounds, createRng(rounds)), `${rounds} rounds accept`).to.be.true;
      }
      for (const rounds of [1, 2, 3]) {
        const rng = createRng(rounds);
        let misses = 0;
        for (let t = 0; t < 4_000; t++) {
          const wrong = c.slice();
          wrong[t % (n * n)] += 1;
          if (freivaldsVerify(a, b, wrong, n, rounds, rng)) misses++;
        }
        expect(misses / 4_000, `${rounds} rounds miss rate`).to.be.closeTo(2 ** -rounds, 0.03);
      }
    });

    it("rejects entries that are not integers in the product's range", () => {
      const n = 8;
      const a = seededMatrix(3, n, 0);
      const b = seededMatrix(3, n, 1);
      const c = cpuKernel.multiply(a, b, n);
      for (const bad of [NaN, Infinity, -1, 0.5, maxProductEntry(n) + 1]) {
        const wrong = c.slice();
        wrong[5] = bad;
        expect(freivaldsVerify(a, b, wrong, n, 10, createRng(1)), `entry ${bad}`).to.be.false;
      }
    });

    it("catches a whole wrong matrix in one round almost always", () => {
      const n = 32;
      const a = seededMatrix(8, n, 0);
      const b = seededMatrix(8, n, 1);
      expect(freivaldsVerify(a, b, seededMatrix(9, n), n, 10, createRng(1)), "random C").to.be.false;
    });

    it("refuses bad parameters", () => {
      const m = new Float64Array(4);
      expect(() => freivaldsVerify(m, m, m, 2, 0, createRng(1)), "0 rounds").to.throw(RangeError);
      expect(() => freivaldsVerify(m, m, m, 2, 1, createRng(1), { entryBits: 11 }), "11 bits").to.throw(RangeError);
      expect(() => freivaldsVerify(m, m, new Float64Array(3), 2, 1, createRng(1)), "C too short").to.throw(RangeError);
    });

    it("states its miss bound", () => {
      expect(freivaldsMissBound(10), "10 rounds of 0/1").to.equal(2 ** -10);
      expect(freivaldsMissBound(2, 10), "2 rounds of 10 bits").to.equal(2 ** -20);
    });
  });

  describe("challenge", () => {
    const challenge: Challenge = { seed: seedHex(77n), n: 24 };

    it("round-trips: the agent's answer passes the checker's verification", () => {
      const answer = solveChallenge(challenge, cpuKernel);
      expect(answer.kernel, "kernel").to.equal("cpu-ikj");
      expect(answer.elapsedMs, "elapsed").to.be.at.least(0);
      expect(verifyAnswer(challenge, answer), "verdict").to.deep.equal({ ok: true });
    });

    it("derives A and B from the seed on two streams", () => {
      const { a, b } = challengeMatrices(challenge);
      expect(Array.from(a), "A").to.deep.equal(Array.from(seededMatrix(77n, 24, 0)));
      expect(Array.from(b), "B").to.deep.equal(Array.from(seededMatrix(77n, 24, 1)));
    });

    it("encodes C as little-endian uint32 and decodes it back", () => {
      const { a, b } = challengeMatrices(challenge);
      const c = cpuKernel.multiply(a, b, challenge.n);
      const b64 = encodeProduct(c, challenge.n);
      const raw = Buffer.from(b64, "base64");
      expect(raw.length, "4 bytes per entry").to.equal(4 * 24 * 24);
      expect(raw.readUInt32LE(4), "entry 1, little-endian").to.equal(c[1]);
      expect(Array.from(decodeProduct(b64, challenge.n)!), "decoded").to.deep.equal(Array.from(c));
      expect(decodeProduct(b64, 25), "wrong size").to.equal(null);
      expect(() => encodeProduct(new Float64Array([0.5]), 1), "fraction").to.throw(RangeError);
    });

    it("rejects tampered, mismatched and malformed answers", () => {
      const answer = solveChallenge(challenge, cpuKernel);
      const raw = Buffer.from(answer.c, "base64");
      raw.writeUInt32LE(raw.readUInt32LE(40) + 1, 40);
      expect(verifyAnswer(challenge, { ...answer, c: raw.toString("base64") }), "one entry + 1").to.deep.equal({
        ok: false,
        reason: "product is wrong",
      });
      expect(verifyAnswer(challenge, { ...answer, n: 23 }).ok, "other n").to.be.false;
      expect(verifyAnswer(challenge, { ...answer, seed: seedHex(78n) }).ok, "other seed").to.be.false;
      expect(verifyAnswer(challenge, { ...answer, seed: "nonsense" }).ok, "bad seed").to.be.false;
      expect(verifyAnswer(challenge, { ...answer, c: answer.c.slice(0, 100) }).ok, "short product").to.be.false;
      const other = solveChallenge({ seed: seedHex(78n), n: 24 }, cpuKernel);
      expect(verifyAnswer(challenge, { ...answer, c: other.c }).ok, "product of another challenge").to.be.false;
    });

    it("makes fresh challenges with 128-bit seeds", () => {
      const c1 = newChallenge(64);
      const c2 = newChallenge(64);
      expect(c1.seed, "format").to.match(/^0x[0-9a-f]{32}$/);
      expect(c1.seed, "fresh").to.not.equal(c2.seed);
    });
  });
});
