/**
 * Stake credits of one on-chain epoch: the part of a credit the provider's earnings did not cover is
 * only recorded as due (`DeferStakeCredit`), payable once the epoch's slashing window has passed
 * (slashes first: `now >= epochStart(e + 1) + slashWindow + 1`, `opensAt`). The rentals with
 * `stakeCreditDue(id, e) > 0` among the epoch's `DeferStakeCredit` events are paid with one
 * `SlaEnforcer.payStakeCredits(ids, epochs)`, keyed "stakecredit:<epoch>".
 */
import type { KaisarContracts } from "../../chain/contracts";
import type { JobStep } from "./types";

/** When the stake credits of an epoch may be paid: its slashing window after the next epoch starts. */
export function opensAt(nextEpochStart: bigint, slashWindow: bigint): bigint {
  return nextEpochStart + slashWindow + 1n;
}

export interface StakeCreditState {
  epoch: number;
  /** The latest block's timestamp. */
  now: bigint;
  /** `opensAt(epochStart(epoch + 1), slashWindow)`. */
  opensAt: bigint;
  /** `stakeCreditDue(id, epoch)` of the rentals of the epoch's `DeferStakeCredit` events (read once open). */
  due: { rentalId: bigint; amount: bigint }[];
}

/** Whether the epoch's credits may be paid now. */
export const payable = (state: Pick<StakeCreditState, "now" | "opensAt">) => state.now >= state.opensAt;

/** One payment of the rentals still due, once the window has passed (none before, none when none due). */
export function check(state: StakeCreditState): JobStep[] {
  if (!payable(state)) return [];
  const ids = state.due.filter((d) => d.amount > 0n).map((d) => d.rentalId);
  if (ids.length === 0) return [];
  return [
    {
      log: { at: "Keeper#payStakeCredit", epoch: state.epoch, rentals: ids.map(String) },
      call: {
        kind: "stakecredit",
        key: `stakecredit:${state.epoch}`,
        contract: "SlaEnforcer",
        method: "payStakeCredits",
        args: [ids, ids.map(() => state.epoch)],
      },
    },
  ];
}

/** Reads the state of `epoch`; the events and dues only once the window has passed. */
export async function read(
  contracts: KaisarContracts,
  epoch: number,
  now: bigint,
  slashWindow: bigint,
): Promise<StakeCreditState> {
  const { SlaEnforcer: sla, ReportOracle: oracle } = contracts;
  const state: StakeCreditState = {
    epoch,
    now,
    opensAt: opensAt(await oracle.epochStart(epoch + 1), slashWindow),
    due: [],
  };
  if (!payable(state)) return state;
  const events = await sla.queryFilter(sla.filters.DeferStakeCredit(undefined, epoch));
  for (const rentalId of new Set(events.map((e) => e.args.rentalId))) {
    state.due.push({ rentalId, amount: await sla.stakeCreditDue(rentalId, epoch) });
  }
  return state;
}
