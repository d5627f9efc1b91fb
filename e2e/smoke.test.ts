/**
 * Smoke test of `npm start` (started by ./hooks.ts): the contracts answer over JSON-RPC at the
 * exported addresses with the exported ABIs, every program answers over HTTP, the checkers' first
 * report of an epoch with the nodes lands on chain through the keeper, and the demo keeps its promises:
 * the flaky node's renter is credited epoch after epoch, the flaky node is never slashed for downtime
 * (not for the epochs before the checkers watched it either), each epoch pays peaq's emission per
 * second, and the chain's reverts print decoded.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";

import { Contract, JsonRpcProvider, Wallet, ZeroHash, parseUnits } from "ethers";

import { emissionScaledTo } from "../deploy/config";

import { localAccount, localNetwork, startOutput } from "./hooks";

const ROOT = path.join(__dirname, "..");
/** All of npm start's output (startOutput keeps the last N lines). */
const ALL = 1_000_000;

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms / 1000} s waiting for ${what}\n${startOutput(30)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

describe("npm start: the whole network locally", function () {
  let provider: JsonRpcProvider;
  let contracts: Record<string, Contract>;
  let readyEpoch: number;

  before(async function () {
    const net = localNetwork();
    provider = new JsonRpcProvider(net.rpcUrl, net.chainId, { staticNetwork: true });
    const exported = JSON.parse(readFileSync(path.join(ROOT, net.exportFile), "utf8")) as {
      contracts: Record<string, { address: string; abi: [] }>;
    };
    contracts = Object.fromEntries(
      Object.entries(exported.contracts).map(([name, c]) => [name, new Contract(c.address, c.abi, provider)]),
    );
    readyEpoch = Number(await contracts.ReportOracle.epochAt(Math.floor(Date.now() / 1000)));
  });

  after(() => provider?.destroy());

  it("serves chain 31337 and writes an export with every contract, the timelock included", async function () {
    const net = localNetwork();
    expect(Number((await provider.getNetwork()).chainId)).to.equal(31337);
    const exported = JSON.parse(readFileSync(path.join(ROOT, net.exportFile), "utf8"));
    expect(exported.generated).to.equal("by scripts/export-deployment.ts");
    expect(exported.chainId).to.equal(31337);
    expect(Object.keys(exported.contracts).sort()).to.deep.equal(Object.keys(net.contracts).sort());
    expect(Object.keys(net.contracts)).to.include("KaisarTimelock");
    for (const [name, address] of Object.entries(net.contracts)) {
      expect(exported.contracts[name].address, name).to.equal(address);
      expect(await provider.getCode(address), `${name} has code`).to.not.equal("0x");
    }
  });

  it("answers over JSON-RPC: the token, the registry's 5 nodes, the oracle's short epochs and checker set", async function () {
    const net = localNetwork();
    expect(await contracts.KaiToken.symbol()).to.equal("KAI");
    expect(Number(await contracts.NodeRegistry.nodeCount())).to.equal(5);
    expect(Number(await contracts.ReportOracle.epochLength())).to.equal(net.epochSeconds);
    expect((await contracts.ReportOracle.checkers()).length, "checker set").to.equal(3);
    expect(Number((await contracts.ReportOracle.config()).quorum), "quorum").to.equal(2);
    const [tier0, tier1] = (await contracts.RentalEscrow.slaTiers()).map(Number);
    expect([tier0, tier1]).to.deep.equal([0, 9990]);
    expect(Number(await contracts.RentalEscrow.rentalCount())).to.equal(net.rentals.length);
  });

  it("every provider agent, checker and the keeper answer /health", async function () {
    this.timeout(120_000);
    const net = localNetwork();
    for (const agent of net.agents) {
      // The flaky agent is down for part of every epoch: wait for it to come back.
      const health = await until(`${agent.name} /health`, (net.epochSeconds + 15) * 1000, () =>
        getJson(`${agent.url}/health`),
      );
      expect(health.ok, agent.name).to.equal(true);
      expect(Number(health.nodeId), agent.name).to.equal(agent.nodeId);
    }
    for (const url of net.checkerUrls) {
      const health = await getJson(`${url}/health`);
      expect(health.ok, url).to.equal(true);
      expect(health.role, url).to.equal("checker");
    }
    const keeper = await getJson(`${net.keeperUrl}/health`);
    expect(keeper.ok, "keeper").to.equal(true);
    expect(Number(keeper.chainId), "keeper's chain").to.equal(31337);
  });

  it("serves the web app, when there is one", async function () {
    const net = localNetwork();
    if (!net.webUrl) this.skip();
    const res = await fetch(net.webUrl!, { signal: AbortSignal.timeout(30_000) });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.match(/<html/i);
  });

  it("lands the checkers' report of an epoch with the nodes on chain (keeper), then an SLA credit for the flaky node's renter", async function () {
    const net = localNetwork();
    const e = net.epochSeconds;
    this.timeout((4 * e + 60) * 1000);
    const epoch = await until(`a report of epoch ${readyEpoch} or later on chain`, (3 * e + 30) * 1000, async () => {
      const now = Number(await contracts.ReportOracle.epochAt(Math.floor(Date.now() / 1000)));
      for (let ep = readyEpoch; ep < now; ep++) {
        if ((await contracts.ReportOracle.reportRoot(ep)) !== ZeroHash) return ep;
      }
      return undefined;
    });
    expect(epoch).to.be.at.least(readyEpoch);

    const flaky = net.agents.find((a) => a.flaky)!;
    const rental = net.rentals.find((r) => r.nodeId === flaky.nodeId)!;
    const credited = await until(
      `an SLA credit of rental ${rental.id} (on ${flaky.name})`,
      (2 * e + 30) * 1000,
      async () => {
        const now = Number(await contracts.ReportOracle.epochAt(Math.floor(Date.now() / 1000)));
        for (let ep = 0; ep < now; ep++) if (await contracts.SlaEnforcer.isCredited(rental.id, ep)) return ep;
        return undefined;
      },
    );
    expect(credited).to.be.a("number");
  });

  it("credits the flaky node's renter in consecutive epochs and never slashes it for downtime", async function () {
    const net = localNetwork();
    const e = net.epochSeconds;
    this.timeout((6 * e + 90) * 1000);
    const flaky = net.agents.find((a) => a.flaky)!;
    const rental = net.rentals.find((r) => r.nodeId === flaky.nodeId)!;
    const first = await until(
      `SLA credits of rental ${rental.id} (on ${flaky.name}) in two consecutive epochs`,
      (5 * e + 60) * 1000,
      async () => {
        const now = Number(await contracts.ReportOracle.epochAt(Math.floor(Date.now() / 1000)));
        for (let ep = 0; ep + 1 < now; ep++) {
          if (
            (await contracts.SlaEnforcer.isCredited(rental.id, ep)) &&
            (await contracts.SlaEnforcer.isCredited(rental.id, ep + 1))
          )
            return ep;
        }
        return undefined;
      },
    );
    // Every epoch scored so far: no downtime slash (of any node), the flaky node still active, and each
    // credit for an uptime between the downtime threshold and the SLA target (the demo's ~95%).
    const slashes = await contracts.SlaEnforcer.queryFilter(contracts.SlaEnforcer.filters.SlashDowntime(), 0);
    expect(
      slashes.map((l) => String(l.topics)),
      `downtime slashes\n${startOutput(40)}`,
    ).to.deep.equal([]);
    expect(Number((await contracts.NodeRegistry.getNode(flaky.nodeId)).status), "flaky node Active").to.equal(1);
    const policy = await contracts.SlaEnforcer.policy();
    const target = Number((await contracts.RentalEscrow.slaTiers())[1]);
    const credits = await contracts.SlaEnforcer.queryFilter(contracts.SlaEnforcer.filters.ApplySlaCredit(rental.id), 0);
    expect(credits.length, "credits").to.be.at.least(2);
    for (const c of credits) {
      const uptime = (c as unknown as { args: { uptimeBps: bigint; epoch: bigint } }).args;
      expect(Number(uptime.uptimeBps), `epoch ${uptime.epoch}`)
        .to.be.at.least(Number(policy.downtimeThresholdBps))
        .and.below(target);
    }
    const printed = `epoch ${first}: rental ${rental.id} (on ${flaky.name}) credited`;
    await until(`"${printed}" in npm start's output`, 30_000, async () =>
      startOutput(ALL).includes(printed) ? true : undefined,
    );
    expect(startOutput(ALL)).to.match(new RegExp(`${flaky.name} is down ${"[0-9.]+"} s of every epoch: uptime ~95%`));
  });

  it("pays peaq's emission per second: an epoch's rewards are peaq's for the same time", async function () {
    const net = localNetwork();
    const peaq = JSON.parse(readFileSync(path.join(ROOT, "deploy", "parameters", "peaq.json"), "utf8"));
    const now = Number(await contracts.ReportOracle.epochAt(Math.floor(Date.now() / 1000)));
    const expected = parseUnits(emissionScaledTo(peaq, net.epochSeconds).initialEmissionKai, 18);
    expect(await contracts.ReportOracle.epochBudget(now)).to.equal(expected);
    // Every report so far paid at most its epoch's budget.
    for (const r of await contracts.ReportOracle.queryFilter(contracts.ReportOracle.filters.SubmitReport(), 0)) {
      const { epoch, totalReward } = (r as unknown as { args: { epoch: bigint; totalReward: bigint } }).args;
      expect(
        totalReward <= (await contracts.ReportOracle.epochBudget(epoch)),
        `epoch ${epoch}: ${totalReward}`,
      ).to.equal(true);
    }
  });

  it("prints the chain's reverts decoded: the custom error by name, with its sentence", async function () {
    const net = localNetwork();
    this.timeout(30_000);
    const renter = new Wallet(localAccount(net, "renter").privateKey, provider);
    const escrow = contracts.RentalEscrow.connect(renter) as Contract;
    const rent = {
      nodeId: net.agents[0].nodeId,
      gpus: 0, // RentalEscrow_InvalidGpuCount(0)
      token: net.contracts.KaiToken,
      plan: 0,
      deposit: parseUnits("100", 18),
      termDays: 0,
      maxPricePerGpuHour: parseUnits("100", 18),
      slaTier: 1,
    };
    await escrow.rent.estimateGas(rent).catch(() => undefined);
    await until("the chain's revert line in npm start's output", 20_000, async () =>
      /reverted with RentalEscrow_InvalidGpuCount\(gpus=0\): A rental needs at least one GPU/.test(startOutput(ALL))
        ? true
        : undefined,
    );
    expect(startOutput(ALL)).to.not.include("unrecognized custom error");
  });
});
