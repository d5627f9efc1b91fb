/**
 * `kaisar provider run`, the part that serves checkers: detect the hardware, warm the challenge
 * kernel, listen; then watch the chain for the node's rentals (rentals.ts) and the provider's stake
 * against its requirement (stake.ts, reported by /health).
 */
import { Wallet } from "ethers";
import type { AddressInfo } from "net";

import type { ProviderConfig } from "../config/load";
import { detectHardware, type DetectOptions, type Detection } from "./hardware";
import { startRentalWatcher } from "./rentals";
import { createAgentServer, type AgentServer, type Logger } from "./server";
import { workerSolver, type ChallengeSolver } from "./solver";
import { watchStake, type StakeWatcher } from "./stake";
import { connectContracts, rpcProvider } from "../chain/contracts";

export interface RunningAgent {
  address: AddressInfo;
  detection: Detection;
  /** Stops serving (open connections are dropped) and stops the kernel's worker. */
  close(): Promise<void>;
}

export interface StartAgentOptions {
  log: Logger;
  /** Overrides of the hardware detection (tests). */
  detect?: Partial<DetectOptions>;
  /** Overrides the solver of the configured kernel (tests). */
  solver?: ChallengeSolver;
  /**
   * Watch the chain for the node's rentals and write their launch specs, and for the provider's stake
   * against its requirement (default true).
   */
  watchRentals?: boolean;
}

/** Starts the checker-facing agent of `config` (which must have a `nodeId`). */
export async function startAgent(config: ProviderConfig, options: StartAgentOptions): Promise<RunningAgent> {
  const { log } = options;
  if (config.nodeId === undefined) throw new Error("the agent needs the node's id (nodeId)");
  const signer = new Wallet(config.privateKey);
  const detection = await detectHardware({
    profile: config.hardwareProfile,
    diskPath: config.dataDir,
    ...options.detect,
  });
  log({ at: "Agent#hardware", ...detection.hardware, reason: detection.reason, notes: detection.notes });

  const solver = options.solver ?? workerSolver(config.challenge.kernel);
  const t0 = performance.now();
  let server: AgentServer;
  let stake: StakeWatcher | undefined;
  try {
    await solver.warm();
    log({
      at: "Agent#kernel",
      kernel: solver.kernel,
      readyMs: Math.round(performance.now() - t0),
      maxN: config.challenge.maxN,
    });
    server = createAgentServer({
      signer,
      nodeId: config.nodeId,
      chainId: config.chainId,
      hardware: detection.hardware,
      solver,
      maxChallengeN: config.challenge.maxN,
      maxBandwidthBytes: config.bandwidth.maxBytes,
      stake: () => stake?.current(),
      log,
    });
  } catch (e) {
    await solver.close();
    throw e;
  }
  let address: AddressInfo;
  try {
    address = await server.listen(config.listen.port, config.listen.host);
  } catch (e) {
    await server.close();
    throw e;
  }
  log({
    at: "Agent#listen",
    host: address.address,
    port: address.port,
    publicUrl: config.publicUrl,
    nodeId: config.nodeId,
    chainId: config.chainId,
    provider: signer.address,
  });
  // Rentals: launch specs under <dataDir>/rentals, polled every rentals.poll (first poll after one).
  let rentals: Awaited<ReturnType<typeof startRentalWatcher>> | undefined;
  try {
    if (options.watchRentals !== false) rentals = await startRentalWatcher(config, signer.address, log);
  } catch (e) {
    await server.close();
    throw e;
  }
  // Stake: read every rentals.poll; /health says when the provider is under its requirement.
  const stakeRpc = options.watchRentals !== false ? rpcProvider(config.rpcUrl, config.chainId) : undefined;
  if (stakeRpc) {
    stake = watchStake({
      contracts: connectContracts(config.contracts, stakeRpc),
      provider: signer.address,
      intervalMs: config.rentals.poll,
      log,
    });
  }
  return {
    address,
    detection,
    async close() {
      await rentals?.close();
      await stake?.stop();
      stakeRpc?.destroy();
      await server.close();
      log({ at: "Agent#stop" });
    },
  };
}
