/**
 * Node software benchmarks: an epoch's aggregation (scoring + reward tree) for 1,000 / 10,000 /
 * 100,000 nodes, each case in its own child process (so its peak RSS is its own), and Freivalds'
 * speed-up over the CPU matrix product. Writes bench/nodes.json and the table in bench/README.md.
 * Run with `npm run bench:nodes`.
 *
 * The aggregation is the epoch-end step every checker runs (`scoreEpoch` then `epochTree`): its
 * input is the checkers' observations (each checker already summed its own samples up per node), 7
 * observers per node out of 21 checkers, 10 nodes per provider. Input generation is not timed.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as prettier from "prettier";

import {
  DEFAULT_SCORING_PARAMS,
  epochTree,
  scoreEpoch,
  type EpochChecker,
  type EpochInput,
  type EpochNode,
  type NodeObservation,
} from "../node/src/scoring";
import { cpuKernel, createRng, freivaldsVerify, seededMatrix, type Rng } from "../node/src/popw";
import { probesPerSecond } from "../node/src/checker/bench";
import { fastHashReady, nodeMetricsHashFast } from "@kaisar/offchain";
import { keccak256 } from "ethers";

const SIZES = [1_000, 10_000, 100_000] as const;
const CHECKERS = 21;
const OBSERVERS = 7;
const NODES_PER_PROVIDER = 10;
const ROUNDS = 10;
const GOALS = { aggregate100kMs: 3_000, aggregate100kMiB: 1_024, freivaldsSpeedup: 20 };
/** Probe benchmark: fake agents (each its own node:http server on a loopback port), and the goal. */
const PROBE_AGENTS = 500;
const GOAL_PROBES_PER_SECOND = 500;

type Figures = Record<string, number | null>;

/** 0x and 8 * words hex digits, as a flat string (like JSON.parse makes; concatenation would make a rope). */
const hex = (rng: Rng, words: number) => {
  const b = Buffer.alloc(2 + 8 * words);
  b.write("0x", 0, "latin1");
  for (let i = 0; i < words; i++) b.write(rng.nextU32().toString(16).padStart(8, "0"), 2 + 8 * i, "latin1");
  return b.toString("latin1");
};

/** The synthetic epoch's start, Unix seconds (two weeks long). */
const EPOCH_START = 1_800_000_000n;

/** A synthetic epoch: honest observers agree within noise; about 1% of observations are outliers. */
export function syntheticEpoch(nodeCount: number, seed = 7): EpochInput {
  const rng = createRng(seed);
  const checkers: EpochChecker[] = Array.from({ length: CHECKERS }, (_, i) => ({
    operator: "0x" + (0xc0ffee00 + i).toString(16).padStart(40, "0"),
    licenses: BigInt(1 + (i % 5)),
    reportsSigned: 100n,
  }));
  const nodes: EpochNode[] = [];
  const observations: NodeObservation[] = [];
  for (let id = 1; id <= nodeCount; id++) {
    const provider = "0x" + (0xa0000000 + Math.ceil(id / NODES_PER_PROVIDER)).toString(16).padStart(40, "0");
    const delivered = BigInt(rng.nextU32() % 1_209_600);
    // Fees of ~1e-6 KAI per GPU-second; one node in 50 listed halfway through the epoch.
    const eligibleSince = id % 50 === 0 ? EPOCH_START + 604_800n : EPOCH_START;
    nodes.push({
      nodeId: id,
      provider,
      deliveredGpuSeconds: delivered,
      feesKai: delivered * 10n ** 12n,
      eligibleSince,
    });
    const uptime = 9_000 + (rng.nextU32() % 1_001);
    const bandwidth = 500 + (rng.nextU32() % 9_500);
    const hardware = 1_000 + (rng.nextU32() % 50_000);
    const mismatch = rng.nextU32() % 200 === 0;
    for (let j = 0; j < OBSERVERS; j++) {
      const checker = checkers[(id + j * 3) % CHECKERS].operator;
      const liar = rng.nextU32() % 100 === 0;
      observations.push({
        checker,
        nodeId: id,
        uptimeBps: liar ? 0 : Math.min(10_000, uptime + (rng.nextU32() % 50)),
        bandwidthMbps: bandwidth + (rng.nextU32() % 20),
        hardwareScore: liar ? hardware * 3 : hardware + (rng.nextU32() % 100),
        hardwareMismatch: mismatch,
        evidence: hex(rng, 8),
      });
    }
  }
  return {
    epoch: 42n,
    epochStart: EPOCH_START,
    epochEnd: EPOCH_START + 1_209_600n,
    budget: 1_000_000n * 10n ** 18n,
    nodes,
    checkers,
    observations,
  };
}

/** One aggregation case (run in a child process): prints its figures as JSON. */
async function runCase(n: number) {
  await fastHashReady;
  const input = syntheticEpoch(n);
  const t0 = performance.now();
  const scores = scoreEpoch(input, DEFAULT_SCORING_PARAMS);
  const t1 = performance.now();
  const tree = epochTree(scores);
  const t2 = performance.now();
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  // Of the scoring, how much is the metrics hashes (`nodeMetricsHashFast`): done again (after the
  // peak is read, so that its garbage does not count).
  for (const s of scores.nodes) nodeMetricsHashFast(s.metrics);
  const t3 = performance.now();
  const out = {
    n,
    ms: t2 - t0,
    scoreMs: t1 - t0,
    treeMs: t2 - t1,
    metricsHashMs: t3 - t2,
    leaves: scores.leaves.length,
    root: tree.root,
    peakMiB,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

function timeIt(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** The fastest of `runs` runs of `fn`: the run least disturbed by whatever else the machine does. */
function bestOf(runs: number, fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, timeIt(fn));
  return best;
}

/** Multiplication time / verification time for size n (10 rounds of 0/1 vectors; and 1 round of 10-bit vectors). */
function freivaldsCase(n: number): Figures {
  const a = seededMatrix(1, n, 0);
  const b = seededMatrix(1, n, 1);
  cpuKernel.multiply(a.subarray(0, 64 * 64), b.subarray(0, 64 * 64), 64); // warm the JIT
  let c: Float64Array = new Float64Array(0);
  const multiplyMs = bestOf(n <= 256 ? 9 : 3, () => (c = cpuKernel.multiply(a, b, n)));
  const rng = createRng(99);
  const verifyRuns = n <= 256 ? 50 : 10;
  const verify = (entryBits: number, rounds: number) =>
    bestOf(verifyRuns, () => {
      if (!freivaldsVerify(a, b, c, n, rounds, rng, { entryBits })) throw new Error("correct product rejected");
    });
  verify(1, ROUNDS); // warm-up
  const verifyMs = verify(1, ROUNDS);
  const wideMs = verify(10, 1);
  return {
    [`freivalds.multiply${n}Ms`]: round(multiplyMs, 1),
    [`freivalds.verify${n}Ms`]: round(verifyMs, 3),
    [`freivalds.speedup${n}`]: round(multiplyMs / verifyMs, 1),
    [`freivalds.wideSpeedup${n}`]: round(multiplyMs / wideMs, 1),
  };
}

/** Single-block keccak256 (ethers, 32 bytes) per second on this machine: the unit most of the aggregation costs. */
function keccakPerSecond(): number {
  const data = new Uint8Array(32);
  for (let i = 0; i < 2_000; i++) keccak256(data); // warm up
  const runs = 20_000;
  const ms = timeIt(() => {
    for (let i = 0; i < runs; i++) keccak256(data);
  });
  return Math.round((runs / ms) * 1_000);
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main() {
  const figures: Figures = {};
  const roots: Record<number, string> = {};
  for (const n of SIZES) {
    const out = execFileSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", __filename, "--case", String(n)],
      {
        encoding: "utf8",
        maxBuffer: 1 << 20,
      },
    );
    const r = JSON.parse(out.trim().split("\n").pop()!);
    console.log(
      `aggregate ${n}: ${r.ms.toFixed(0)} ms (scoring ${r.scoreMs.toFixed(0)} ms, of which metrics hashes ` +
        `${r.metricsHashMs.toFixed(0)} ms; tree ${r.treeMs.toFixed(0)} ms), peak RSS ${r.peakMiB.toFixed(0)} MiB, ` +
        `${r.leaves} leaves, root ${r.root}`,
    );
    figures[`aggregate.n${n}Ms`] = round(r.ms);
    figures[`aggregate.n${n}ScoreMs`] = round(r.scoreMs);
    figures[`aggregate.n${n}MetricsHashMs`] = round(r.metricsHashMs);
    figures[`aggregate.n${n}TreeMs`] = round(r.treeMs);
    figures[`aggregate.n${n}PeakMiB`] = round(r.peakMiB);
    roots[n] = r.root;
  }
  for (const n of [256, 1024]) {
    const f = freivaldsCase(n);
    console.log(f);
    Object.assign(figures, f);
  }
  // Heartbeat probes the checker sustains (scheduler + probe + SQLite) against 500 fake agents.
  const probes = await probesPerSecond({ agents: PROBE_AGENTS, durationMs: 5_000 });
  console.log(`probes: ${JSON.stringify(probes)}`);
  figures["probe.perSecond"] = probes.perSecond;
  figures["machine.keccakPerSecond"] = keccakPerSecond();

  const file = path.join(__dirname, "nodes.json");
  writeFileSync(file, JSON.stringify(figures, null, 2) + "\n");
  await writeTable(figures);
  console.table(Object.entries(figures).map(([key, value]) => ({ key, value })));
  console.log(`wrote ${file}; roots ${JSON.stringify(roots)}`);
}

/** Rewrites the nodes table in bench/README.md between its markers (appending the section the first time). */
async function writeTable(f: Figures) {
  const readme = path.join(__dirname, "README.md");
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "—" : v.toLocaleString("en-US"));
  const met = (ok: boolean) => (ok ? "yes" : "**no**");
  const lines = [
    "| key | what | figure | goal | met |",
    "| --- | --- | ---: | ---: | --- |",
    ...SIZES.map((n) => {
      const key = `aggregate.n${n}Ms`;
      const goal = n === 100_000 ? `${fmt(GOALS.aggregate100kMs)} ms` : "";
      const ok = n === 100_000 ? met((f[key] ?? Infinity) <= GOALS.aggregate100kMs) : "";
      return `| \`${key}\` | scoring + reward tree, ${fmt(n)} nodes (ms) | ${fmt(f[key])} | ${goal} | ${ok} |`;
    }),
    `| \`aggregate.n100000PeakMiB\` | peak RSS of the 100,000-node process (MiB) | ${fmt(f["aggregate.n100000PeakMiB"])} | ${fmt(GOALS.aggregate100kMiB)} MiB | ${met((f["aggregate.n100000PeakMiB"] ?? Infinity) <= GOALS.aggregate100kMiB)} |`,
    ...[256, 1024].map(
      (n) =>
        `| \`freivalds.speedup${n}\` | CPU product ÷ Freivalds (10 rounds, 0/1 vectors), n = ${n} | ${fmt(f[`freivalds.speedup${n}`])} | ${GOALS.freivaldsSpeedup} | ${met((f[`freivalds.speedup${n}`] ?? 0) >= GOALS.freivaldsSpeedup)} |`,
    ),
    `| \`probe.perSecond\` | heartbeats per second a checker sustains, ${PROBE_AGENTS} fake agents on loopback | ${fmt(f["probe.perSecond"])} | ${fmt(GOAL_PROBES_PER_SECOND)} | ${met((f["probe.perSecond"] ?? 0) >= GOAL_PROBES_PER_SECOND)} |`,
    `| \`machine.keccakPerSecond\` | keccak256 of 32 bytes per second (ethers), to compare machines | ${fmt(f["machine.keccakPerSecond"])} | | |`,
    "",
    "Where the aggregation time goes (ms):",
    "",
    "| nodes | total | scoring | of which `nodeMetricsHashFast` | `buildRewardTreeFast` | peak RSS (MiB) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...SIZES.map(
      (n) =>
        `| ${fmt(n)} | ${fmt(f[`aggregate.n${n}Ms`])} | ${fmt(f[`aggregate.n${n}ScoreMs`])} | ${fmt(f[`aggregate.n${n}MetricsHashMs`])} | ${fmt(f[`aggregate.n${n}TreeMs`])} | ${fmt(f[`aggregate.n${n}PeakMiB`])} |`,
    ),
    "",
    "Freivalds against the CPU product (ms; speed-up = product ÷ check):",
    "",
    "| n | CPU product | 10 rounds, 0/1 vectors | speed-up | 1 round, 10-bit vectors (same 2^-10 bound): speed-up |",
    "| ---: | ---: | ---: | ---: | ---: |",
    ...[256, 1024].map(
      (n) =>
        `| ${n} | ${fmt(f[`freivalds.multiply${n}Ms`])} | ${fmt(f[`freivalds.verify${n}Ms`])} | ${fmt(f[`freivalds.speedup${n}`])} | ${fmt(f[`freivalds.wideSpeedup${n}`])} |`,
    ),
  ];
  const start = "<!-- nodes:start -->";
  const end = "<!-- nodes:end -->";
  let text = readFileSync(readme, "utf8");
  if (!text.includes(start)) {
    text += `\n## Nodes (\`npm run bench:nodes\`)\n\n${start}\n${end}\n\n${NOTES}`;
  }
  text = text.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n\n${lines.join("\n")}\n\n${end}`);
  const options = (await prettier.resolveConfig(readme)) ?? {};
  writeFileSync(readme, await prettier.format(text, { ...options, filepath: readme }));
}

const NOTES = `How it is measured: \`bench/nodes.ts\` runs each aggregation case in a fresh Node.js process (one
thread; peak RSS is that process's \`maxRSS\`, ts-node and TypeScript included, about 130 MiB). The input is
what checkers exchange at the end of an epoch: one observation per (checker, node), 7 observers per node out
of 21 checkers, 10 nodes per provider, about 1% outlying observations; generating it is not timed. The figure
is \`scoreEpoch\` (medians, outliers, points, rewards, evidence hashes, leaves with \`nodeMetricsHashFast\`)
plus \`epochTree\` (\`buildRewardTreeFast\` of \`offchain/src/fastTree.ts\`: the same root and proofs as
\`buildRewardTree\`, checked by a differential test, with keccak256 in WebAssembly and the fixed leaf layout
encoded directly); the second table re-runs \`nodeMetricsHashFast\` alone to show its share. Much of the work
is keccak256, so \`machine.keccakPerSecond\` (ethers' JavaScript keccak) is there to compare machines. Freivalds: the CPU kernel's product (i-k-j loop, float64) against \`freivaldsVerify\`
on the same matrices, the best of repeated runs (the run least disturbed by other load).
`;

if (require.main === module) {
  if (process.argv[2] === "--case") void runCase(Number(process.argv[3]));
  else
    main().catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
}
