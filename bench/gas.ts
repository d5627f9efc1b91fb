/**
 * Gas benchmark: each operation as its own transaction in a steady state (warm token balances, an
 * existing provider and renter), whole-transaction gas from the receipt. Writes bench/gas.json and
 * the table in bench/README.md. Run with `npm run bench:gas`.
 */
import { ethers, network } from "hardhat";
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { deployWithNode, openRental, registerNode, Plan, KAI, USD, defaultSpec, ENDPOINT } from "../test/fixtures";

type Goal = { key: string; label: string; goal: number };

const GOALS: Goal[] = [
  { key: "stake.first", label: "first stake of a provider", goal: 80_000 },
  { key: "stake.topup", label: "add stake", goal: 60_000 },
  { key: "unstake.request", label: "request unstake", goal: 60_000 },
  { key: "unstake.withdraw", label: "withdraw after unbonding", goal: 55_000 },
  { key: "node.register", label: "register a node", goal: 180_000 },
  { key: "rent.payg", label: "rent, pay-as-you-go", goal: 130_000 },
  { key: "rent.saving", label: "rent, saving plan", goal: 140_000 },
  { key: "rental.topup", label: "top up", goal: 50_000 },
  { key: "rental.end", label: "renter ends early", goal: 65_000 },
  { key: "provider.withdraw", label: "provider withdraws from 1 rental", goal: 55_000 },
  { key: "provider.withdraw10", label: "provider withdraws from 10 rentals in one call", goal: 120_000 },
];

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

async function main() {
  const c = await deployWithNode();
  const { registry, escrow, usd, provider, provider2, renter } = c;
  const usdAddress = await usd.getAddress();
  const gas: Record<string, number> = {};

  // Steady state: the renter has rented before, the escrow holds USD and has accrued fees, the
  // provider has withdrawn before.
  const warm = await openRental(c, { deposit: USD(100) });
  await network.provider.send("evm_increaseTime", [60]);
  await escrow.connect(provider).withdrawEarnings(usdAddress, [warm]);

  // Staking by a second provider (its first stake), then a top-up.
  gas["stake.first"] = await gasOf(registry.connect(provider2).stake(KAI(10_000)));
  gas["stake.topup"] = await gasOf(registry.connect(provider2).stake(KAI(1_000)));
  gas["unstake.request"] = await gasOf(registry.connect(provider2).requestUnstake(KAI(500)));
  await network.provider.send("evm_increaseTime", [Number(await registry.unbondingPeriod())]);
  gas["unstake.withdraw"] = await gasOf(registry.connect(provider2).withdrawUnstaked());

  // A second node by an existing provider.
  gas["node.register"] = await gasOf(
    registry.connect(provider).registerNode({ ...defaultSpec, gpuCount: 4 }, ENDPOINT, [usdAddress], [USD(2)]),
  );
  await registry.connect(provider).stake(await registry.requiredStake(provider.address));

  const base = { nodeId: c.nodeId, gpus: 1, token: usdAddress, maxPricePerGpuHour: USD(2), slaTier: 0 };
  gas["rent.payg"] = await gasOf(
    escrow.connect(renter).rent({ ...base, plan: Plan.PayAsYouGo, deposit: USD(20), termDays: 0 }),
  );
  const paygId = await escrow.rentalCount();
  gas["rent.saving"] = await gasOf(
    escrow.connect(renter).rent({ ...base, plan: Plan.Saving, deposit: 0, termDays: 30 }),
  );
  await network.provider.send("evm_increaseTime", [600]);
  gas["rental.topup"] = await gasOf(escrow.connect(renter).topUp(paygId, USD(10)));
  gas["provider.withdraw"] = await gasOf(escrow.connect(provider).withdrawEarnings(usdAddress, [paygId]));
  await network.provider.send("evm_increaseTime", [600]);
  gas["rental.end"] = await gasOf(escrow.connect(renter).endRental(paygId));

  // Ten running rentals on one node (free GPUs: 8, so use two nodes of the provider).
  const node2 = await registerNode(c, provider, { ...defaultSpec, gpuCount: 8 });
  await registry.connect(provider).stake(await registry.requiredStake(provider.address));
  const ids: bigint[] = [];
  for (let i = 0; i < 10; i++) {
    ids.push(await openRental({ ...c, nodeId: i < 5 ? c.nodeId : node2 }, { deposit: USD(20) }));
  }
  await network.provider.send("evm_increaseTime", [900]);
  gas["provider.withdraw10"] = await gasOf(escrow.connect(provider).withdrawEarnings(usdAddress, ids));

  // Print and write.
  const rows = GOALS.map(({ key, label, goal }) => {
    const used = gas[key];
    return { key, label, used, goal, ok: used <= goal };
  });
  console.table(rows.map((r) => ({ key: r.key, gasUsed: r.used, goal: r.goal, met: r.ok ? "yes" : "NO" })));

  const root = path.join(__dirname);
  const file = path.join(root, "gas.json");
  let previous: Record<string, number> = {};
  try {
    previous = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // first run
  }
  const merged = { ...previous, ...gas };
  writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
  writeTable(root, merged);
  console.log(`wrote ${file}`);
  void ethers;
}

/** Rewrites the gas table in bench/README.md between its markers. */
function writeTable(root: string, gas: Record<string, number>) {
  const readme = path.join(root, "README.md");
  const lines = [
    "| key | operation | gasUsed | goal | met |",
    "| --- | --- | ---: | ---: | --- |",
    ...GOALS.map(
      ({ key, label, goal }) =>
        `| \`${key}\` | ${label} | ${gas[key]?.toLocaleString("en-US")} | ${goal.toLocaleString("en-US")} | ${gas[key] <= goal ? "yes" : "**no**"} |`,
    ),
  ];
  const text = readFileSync(readme, "utf8");
  const start = "<!-- gas:start -->";
  const end = "<!-- gas:end -->";
  const next = text.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${lines.join("\n")}\n${end}`);
  writeFileSync(readme, next);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
