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
import * as exclude from "./jobs/exclude";
import { execute, type ExecuteContext } from "./jobs/execute";
import type { CheckerSetView, InactiveOperator } from "./jobs/exclude";
import type { TxLogEntry, TxOutcome, TxSender } from "./tx";

export interface CheckerSetKeeperOptions {
  contracts: KaisarContracts;
  sender: TxSender;
  log?: (entry: TxLogEntry) => void;
}

/** Excludes the operators of the current checker set that are no longer active (see the file comment). */
export class CheckerSetKeeper {
  private readonly log: (entry: TxLogEntry) => void;
  private readonly ctx: ExecuteContext;
  private readers?: Promise<{
    license: ReturnType<typeof CheckerLicense__factory.connect>;
    registry: ReturnType<typeof NodeRegistry__factory.connect>;
  }>;
  /** The config version whose lost quorum was already warned about. */
  private warned?: bigint;

  constructor(private readonly o: CheckerSetKeeperOptions) {
    this.log = o.log ?? (() => {});
    this.ctx = { contracts: o.contracts, sender: o.sender, log: this.log };
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
    return exclude.inactive(await this.read(view));
  }

  /** Each live operator's licenses and stake, at the view's block (what `excludeOperator` checks). */
  private async read(view: CheckerSetView): Promise<exclude.ExcludeState> {
    const { license, registry } = await this.contractsOfOracle();
    const at = { blockTag: view.block };
    const standing = await Promise.all(
      view.operators.map(async (operator) => {
        if (operator === ZeroAddress) return undefined;
        const [licenses, stake] = await Promise.all([
          license.licensesOf(operator, at),
          registry.getStake(operator, at),
        ]);
        return { licenses, staked: stake.staked };
      }),
    );
    return { view, standing };
  }

  /** One pass: excludes every operator no longer active, then warns if the set lost its quorum. */
  async excludeAll(): Promise<TxOutcome[]> {
    let view = await this.view();
    const outcomes = await execute(this.ctx, exclude.check(await this.read(view)));
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
