/**
 * Conservation read from the chain alone (no model of what should have happened): for tests that run
 * real programs against a real chain and then check that no token was created, lost or left unaccounted.
 *
 * - Supply: for the KAI token and every escrow payment token, `totalSupply()` equals the sum of the
 *   balances of every address its `Transfer` events ever named (no holder missed, nothing minted
 *   outside the events).
 * - RentalEscrow, per payment token: its balance equals what it owes, by its own books: every open
 *   rental's deposit less the value of the units already withdrawn or credited (`valueOf` of
 *   offchain/rentalMath, as the contract computes it), every closed rental's earnings still owed to the
 *   provider (`amount`), the protocol fees accrued (`accruedFees`) and every renter's refund credit
 *   (`refundCredit`, renters of every rental and of every `CreditRefund`).
 * - NodeRegistry: its KAI equals, over every staker (`Stake` events) and every provider credited rewards
 *   (`DepositRewards`), `staked + unbonding + rewardsOwed`.
 * - RewardDistributor: its KAI equals `reserve()` plus every claimer's still-vesting positions.
 * - SlaEnforcer and ReportOracle keep no KAI (what they take from a stake is passed on in the same call).
 *
 * (The property walks of test/scenarios check the same books against their own model, field by field:
 * test/helpers/popw/invariants.ts `checkInvariants`; these figures need no model, so any run can be checked.)
 */
import { Contract, ZeroAddress, getAddress, type Provider } from "ethers";
import { valueOf, type Plan } from "@kaisar/offchain";

import type { KaisarContracts } from "../../src/chain/contracts";

const ERC20 = [
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "function balanceOf(address) view returns (uint256)",
  "function totalSupply() view returns (uint256)",
];
/** `RentalStatus.Closed` in contracts/types/DataTypes.sol. */
const CLOSED = 3n;

/** One conserved figure: what is held and what the books say should be. */
export interface LedgerLine {
  what: string;
  held: bigint;
  owed: bigint;
}

const unique = (xs: Iterable<string>) => [...new Set([...xs].map((x) => getAddress(x)))];

/** Every conserved figure of the deployment (see the file comment); `held === owed` in each when conserved. */
export async function ledgers(c: KaisarContracts): Promise<LedgerLine[]> {
  const provider = c.KaiToken.runner!.provider as Provider;
  const kai = getAddress(await c.KaiToken.getAddress());
  const payment = unique(await c.RentalEscrow.paymentTokens());
  const tokens = unique([kai, ...payment]);
  const erc20 = (t: string) => new Contract(t, ERC20, provider);
  const lines: LedgerLine[] = [];

  // Supply: the sum over every holder the token's events ever named.
  for (const t of tokens) {
    const token = erc20(t);
    const holders = new Set<string>();
    for (const e of await token.queryFilter(token.filters.Transfer())) {
      const [from, to] = (e as unknown as { args: [string, string] }).args;
      holders.add(from);
      holders.add(to);
    }
    holders.delete(ZeroAddress);
    let sum = 0n;
    for (const h of holders) sum += (await token.balanceOf(h)) as bigint;
    lines.push({ what: `${t}: Σ balances of every holder == totalSupply`, held: sum, owed: await token.totalSupply() });
  }

  // RentalEscrow, per token.
  const escrow = c.RentalEscrow;
  const escrowAddress = await escrow.getAddress();
  const owed = new Map(tokens.map((t) => [t, 0n]));
  const renters = new Set<string>();
  const count = await escrow.rentalCount();
  for (let id = 1n; id <= count; id++) {
    const r = await escrow.getRental(id);
    renters.add(r.renter);
    const token = payment[Number(r.tokenIndex)];
    const left =
      r.status === CLOSED
        ? r.amount
        : r.amount - valueOf(Number(r.plan) as Plan, r.unitPrice, r.amount, r.withdrawnUnits);
    owed.set(token, owed.get(token)! + left);
  }
  for (const e of await escrow.queryFilter(escrow.filters.CreditRefund())) renters.add(e.args.renter);
  for (const t of tokens) {
    let books = owed.get(t)! + (await escrow.accruedFees(t));
    for (const r of unique(renters)) books += await escrow.refundCredit(r, t);
    lines.push({
      what: `RentalEscrow ${t}: balance == open deposits not yet earned out + closed earnings owed + fees + refund credits`,
      held: await erc20(t).balanceOf(escrowAddress),
      owed: books,
    });
  }

  // NodeRegistry: stakes, unbonding stakes and rewards owed.
  const registry = c.NodeRegistry;
  const stakers = unique([
    ...(await registry.queryFilter(registry.filters.Stake())).map((e) => e.args.provider),
    ...(await registry.queryFilter(registry.filters.DepositRewards())).map((e) => e.args.provider),
  ]);
  let staked = 0n;
  for (const s of stakers) {
    const st = await registry.getStake(s);
    staked += st.staked + st.unbonding + st.rewardsOwed;
  }
  lines.push({
    what: "NodeRegistry KAI: balance == Σ staked + unbonding + rewards owed",
    held: await c.KaiToken.balanceOf(await registry.getAddress()),
    owed: staked,
  });

  // RewardDistributor: the reserve and the positions still vesting.
  const distributor = c.RewardDistributor;
  let vesting = 0n;
  const claimers = unique((await distributor.queryFilter(distributor.filters.Claim())).map((e) => e.args.beneficiary));
  for (const owner of claimers) {
    for (const p of await distributor.positionsOf(owner)) vesting += p.amount;
  }
  lines.push({
    what: "RewardDistributor KAI: balance == reserve + Σ vesting positions",
    held: await c.KaiToken.balanceOf(await distributor.getAddress()),
    owed: (await distributor.reserve()) + vesting,
  });

  // Contracts that pass on what they take.
  for (const name of ["SlaEnforcer", "ReportOracle"] as const) {
    lines.push({
      what: `${name} KAI: keeps none`,
      held: await c.KaiToken.balanceOf(await c[name].getAddress()),
      owed: 0n,
    });
  }
  return lines;
}

/** The lines of `ledgers` whose figures differ, one sentence each (empty when everything is conserved). */
export async function unconserved(c: KaisarContracts): Promise<string[]> {
  return (await ledgers(c)).filter((l) => l.held !== l.owed).map((l) => `${l.what}: holds ${l.held}, owes ${l.owed}`);
}
