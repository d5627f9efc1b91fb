/**
 * The agent's stake watch: while `kaisar provider run` runs it reads the provider's active stake and
 * what its listed nodes require (`NodeRegistry.getStake(provider).staked`, `requiredStake(provider)`)
 * every `rentals.poll`, and /health reports it as `stake`. A provider pushed under its
 * requirement (a credit from stake paid to a renter, a slash, a raised requirement) takes no rentals
 * on any of its nodes until it stakes more: /health says so with the shared sentence
 * (offchain/src/stake.ts) and a log line says it once per change. An RPC failure is logged once per
 * distinct error and keeps the last reading; the agent keeps serving either way.
 */
import { stakeShortfall, underStakeSentence, type StakeStanding } from "@kaisar/offchain";

import type { KaisarContracts } from "../chain/contracts";
import { formatKai } from "../chain/tx";
import type { Logger } from "./server";

/** /health's `stake`: amounts as KAI decimal strings. */
export interface StakeHealth {
  /** False while the stake is under the requirement: the provider's nodes take no rentals. */
  ok: boolean;
  staked: string;
  required: string;
  /** How much more to stake ("0" when covered). */
  shortfall: string;
  /** The shared sentence while under the requirement; absent when covered. */
  message?: string;
  /** ISO time of the reading. */
  checkedAt: string;
  /** The last read's error, when it failed (the amounts are then those of the last good read). */
  error?: string;
}

/** The provider's stake and requirement, read from the registry. */
export async function readStakeStanding(contracts: KaisarContracts, provider: string): Promise<StakeStanding> {
  const [stake, required] = await Promise.all([
    contracts.NodeRegistry.getStake(provider),
    contracts.NodeRegistry.requiredStake(provider),
  ]);
  return { staked: stake.staked, required };
}

/** /health's view of `s` for `provider`. */
export function stakeHealth(provider: string, s: StakeStanding, checkedAt: Date): StakeHealth {
  const message = underStakeSentence(provider, s);
  return {
    ok: message === undefined,
    staked: formatKai(s.staked),
    required: formatKai(s.required),
    shortfall: formatKai(stakeShortfall(s)),
    ...(message && { message }),
    checkedAt: checkedAt.toISOString(),
  };
}

export interface StakeWatcher {
  /** The latest reading (undefined before the first one answers). */
  current(): StakeHealth | undefined;
  /** One read of the chain (the timer calls it; tests may too). */
  poll(): Promise<void>;
  /** Stops polling and waits for a read in flight. */
  stop(): Promise<void>;
}

/** Reads `provider`'s stake every `intervalMs` (the first read one interval after the start, as rentals.ts). */
export function watchStake(options: {
  contracts: KaisarContracts;
  provider: string;
  intervalMs: number;
  log: Logger;
}): StakeWatcher {
  const { contracts, provider, log } = options;
  let latest: StakeHealth | undefined;
  let lastError = "";
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const read = async () => {
    try {
      const h = stakeHealth(provider, await readStakeStanding(contracts, provider), new Date());
      if (latest?.ok !== h.ok || latest?.shortfall !== h.shortfall) {
        log({
          at: "Agent#stake",
          ok: h.ok,
          staked: h.staked,
          required: h.required,
          ...(h.message && { message: h.message }),
        });
      }
      latest = h;
      lastError = "";
    } catch (e) {
      const error = (e as Error).message.split("\n")[0];
      if (error !== lastError) log({ at: "Agent#stake", error });
      lastError = error;
      if (latest) latest = { ...latest, error };
    }
  };
  let inFlight: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = read().finally(schedule);
    }, options.intervalMs);
  };
  schedule();

  return {
    current: () => latest,
    poll: () => (inFlight = inFlight.then(read)),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
