/**
 * Checker-set upkeep: operators of the current set that are no longer active are excluded from it.
 *
 * Each pass reads the current set (`ReportOracle.config`, `checkers`, `minCheckerStake`, all at one
 * block) and, for every live entry (tombstones, the zero address, are skipped), what
 * `ReportOracle.excludeOperator` checks, read-only, from the contracts the oracle itself reads (its
 * `license` and `registry`): the operator's delegated, unsuspended licenses
 * (`CheckerLicense.licensesOf`, none: "no-license") and its stake (`NodeRegistry.getStake().staked`
 * below `minCheckerStake`: "under-staked"). Each operator no longer active is excluded with
 * `excludeOperator(index)`, keyed "exclude:<version>:<index>": a restart resumes the transaction in
 * flight and never sends a second one; `ReportOracle_OperatorAlreadyExcluded` (another keeper was
 * first) counts as done. An active operator is never sent anything.
 *
 * Logged as JSON lines: `Keeper#excludeOperator` before each exclusion (then the sender's own lines),
 * and `Keeper#checkerQuorumLost` (level "warn") when the live operators are fewer than the quorum (the
 * oracle's `CheckerQuorumLost`): no report can be submitted until governance sets a new checker
 * config. The warning is said once per config version (and again after a restart).
 */
import { ZeroAddress, getAddress } from "ethers";

import type { KaisarContracts } from "../chain/contracts";
import { CheckerLicense__factory } from "../../../typechain-types/factories/contracts/checker/CheckerLicense__factory";
import { NodeRegistry__factory } from "../../../typechain-types/factories/contracts/registry/NodeRegistry__factory";
import type { TxLogEntry, TxOutcome, TxSender } from "./tx";

/** `ReportOracle.EXCLUDED_NO_LICENSE`, `EXCLUDED_UNDER_STAKED`. */
export const EXCLUDED_NO_LICENSE = 1n;
export const EXCLUDED_UNDER_STAKED = 2n;

/** The current checker set, as the oracle holds it. */
export interface CheckerSetView {
  version: bigint;
  quorum: number;
  /** Sorted, checksummed, in signer index order; the zero address where an operator was excluded. */
  operators: string[];
  /** Operators not excluded. */
  live: number;
  minCheckerStake: bigint;
  /** The block the view was read at. */
  block: number;
}

/** An operator of the current set that `excludeOperator` would exclude. */
export interface InactiveOperator {
  index: number;
  operator: string;
  /** `ExcludeOperator`'s reasons bits (see the constants above). */
  reasons: bigint;
  licenses: bigint;
  staked: bigint;
}

export interface CheckerSetKeeperOptions {
  contracts: KaisarContracts;
  sender: TxSender;
  log?: (entry: TxLogEntry) => void;
}

/** The names of `reasons` bits, for logs. */
export function reasonNames(reasons: bigint): string[] {
  const names: string[] = [];
  if (reasons & EXCLUDED_NO_LICENSE) names.push("no-license");
  if (reasons & EXCLUDED_UNDER_STAKED) names.push("under-staked");
  return names;
}

/** Excludes the operators of the current checker set that are no longer active (see the file comment). */
export class CheckerSetKeeper {
  private readonly log: (entry: TxLogEntry) => void;
  private readers?: Promise<{
    license: ReturnType<typeof CheckerLicense__factory.connect>;
    registry: ReturnType<typeof NodeRegistry__factory.connect>;
  }>;
  /** The config version whose lost quorum was already warned about. */
  private warned?: bigint;

  constructor(private readonly o: CheckerSetKeeperOptions) {
    this.log = o.log ?? (() => {});
  }

  /** The license and registry contracts the oracle checks against (immutables: read once). */
  private contractsOfOracle() {
    if (!this.readers) {
      const oracle = this.o.contracts.ReportOracle;
      const read = (async () => {
        const [license, registry] = await Promise.all([oracle.license(), oracle.registry()]);
        return {
          license: CheckerLicense__factory.connect(license, oracle.runner),
          registry: NodeRegistry__factory.connect(registry, oracle.runner),
        };
      })();
      this.readers = read;
      // A failed read is tried again on the next pass.
      read.catch(() => {
        if (this.readers === read) this.readers = undefined;
      });
    }
    return this.readers;
  }

  /** The current set, read at one block. */
  async view(): Promise<CheckerSetView> {
    const oracle = this.o.contracts.ReportOracle;
    const block = await oracle.runner!.provider!.getBlockNumber();
    const at = { blockTag: block };
    const [config, operators, minCheckerStake] = await Promise.all([
      oracle.config(at),
      oracle.checkers(at),
      oracle.minCheckerStake(at),
    ]);
    const list = operators.map((a) => getAddress(a));
    return {
      version: config.version,
      quorum: Number(config.quorum),
      operators: list,
      live: list.filter((a) => a !== ZeroAddress).length,
      minCheckerStake,
      block,
    };
  }

  /** The live operators of `view` that are no longer active (no license, or under the minimum stake). */
  async inactive(view: CheckerSetView): Promise<InactiveOperator[]> {
    const { license, registry } = await this.contractsOfOracle();
    const at = { blockTag: view.block };
    const rows = await Promise.all(
      view.operators.map(async (operator, index): Promise<InactiveOperator | undefined> => {
        if (operator === ZeroAddress) return undefined;
        const [licenses, stake] = await Promise.all([
          license.licensesOf(operator, at),
          registry.getStake(operator, at),
        ]);
        let reasons = 0n;
        if (licenses === 0n) reasons |= EXCLUDED_NO_LICENSE;
        if (stake.staked < view.minCheckerStake) reasons |= EXCLUDED_UNDER_STAKED;
        return reasons === 0n ? undefined : { index, operator, reasons, licenses, staked: stake.staked };
      }),
    );
    return rows.filter((r): r is InactiveOperator => r !== undefined);
  }

  /** One pass: excludes every operator no longer active, then warns if the set lost its quorum. */
  async excludeAll(): Promise<TxOutcome[]> {
    const oracle = this.o.contracts.ReportOracle;
    let view = await this.view();
    const outcomes: TxOutcome[] = [];
    for (const op of await this.inactive(view)) {
      this.log({
        at: "Keeper#excludeOperator",
        version: view.version.toString(),
        index: op.index,
        operator: op.operator,
        reasons: reasonNames(op.reasons),
        licenses: op.licenses.toString(),
        staked: op.staked.toString(),
        minCheckerStake: view.minCheckerStake.toString(),
      });
      outcomes.push(
        await this.o.sender.send({
          kind: "exclude",
          key: `exclude:${view.version}:${op.index}`,
          contract: "ReportOracle",
          to: oracle.target as string,
          data: oracle.interface.encodeFunctionData("excludeOperator", [op.index]),
        }),
      );
    }
    if (outcomes.some((o) => o.status === "mined" || o.status === "already")) view = await this.view();
    this.warnIfQuorumLost(view);
    return outcomes;
  }

  /** Logs `Keeper#checkerQuorumLost` once per config version whose live operators are fewer than its quorum. */
  warnIfQuorumLost(view: CheckerSetView): void {
    if (view.live >= view.quorum || this.warned === view.version) return;
    this.warned = view.version;
    this.log({
      at: "Keeper#checkerQuorumLost",
      level: "warn",
      version: view.version.toString(),
      live: view.live,
      quorum: view.quorum,
      excluded: view.operators.flatMap((a, i) => (a === ZeroAddress ? [i] : [])),
      consequence: "no report can reach the quorum: reports stall until governance sets a new checker config",
    });
  }
}
