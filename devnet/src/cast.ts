/** The demo network's cast: who is who (Hardhat account index), what each provider declares, what is rented. */

export const PROVIDERS = [
  {
    name: "agent-h100",
    account: 4,
    profile: { gpuModel: "NVIDIA H100 80GB HBM3", gpuCount: 8, vramGiB: 80, cpuCores: 128, ramGiB: 1024 },
    disk: 8000,
    bandwidth: 10_000,
    price: "2.5",
    region: "eu-west",
  },
  {
    name: "agent-a100",
    account: 5,
    profile: { gpuModel: "NVIDIA A100-SXM4-80GB", gpuCount: 4, vramGiB: 80, cpuCores: 64, ramGiB: 512 },
    disk: 4000,
    bandwidth: 10_000,
    price: "1.6",
    region: "us-east",
  },
  {
    name: "agent-4090",
    account: 6,
    profile: { gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 2, vramGiB: 24, cpuCores: 32, ramGiB: 128 },
    disk: 2000,
    bandwidth: 1000,
    price: "0.5",
    region: "ap-south",
  },
  {
    name: "agent-l40s",
    account: 7,
    profile: { gpuModel: "NVIDIA L40S", gpuCount: 1, vramGiB: 48, cpuCores: 16, ramGiB: 128 },
    disk: 1000,
    bandwidth: 2500,
    price: "0.9",
    region: "eu-north",
  },
  {
    // The flaky one: stopped for part of every epoch.
    name: "agent-3090",
    account: 8,
    profile: { gpuModel: "NVIDIA GeForce RTX 3090", gpuCount: 1, vramGiB: 24, cpuCores: 12, ramGiB: 64 },
    disk: 1000,
    bandwidth: 1000,
    price: "0.25",
    region: "us-west",
    flaky: true,
  },
] as const;
export const DEPLOYER_ACCOUNT = 0;
export const CHECKER_ACCOUNTS = [1, 2, 3];
export const KEEPER_ACCOUNT = 9;
export const RENTER_ACCOUNT = 10;
export const YOU_ACCOUNT = 11;

/** The demo rentals (pay-as-you-go at SLA tier 1, 99.9%): one on a healthy node, one on the flaky node. */
export const DEMO_RENTALS = [
  { provider: 0, gpus: 2 },
  { provider: 4, gpus: 1 },
] as const;

/** The demo accounts, as `npm start` prints them and writes them to .kaisar/local.json. */
export const DEMO_ACCOUNTS: { name: string; roles: string[]; index: number }[] = [
  {
    name: "deployer",
    roles: ["deployer", "governance", "guardian", "treasury", "rewardPool"],
    index: DEPLOYER_ACCOUNT,
  },
  { name: "you", roles: ["demo user: 10,000 KAI, 10,000 ETH, nothing else"], index: YOU_ACCOUNT },
  { name: "renter", roles: ["renter of the demo rentals"], index: RENTER_ACCOUNT },
  ...PROVIDERS.map((p) => ({ name: p.name.replace("agent", "provider"), roles: ["provider"], index: p.account })),
  ...CHECKER_ACCOUNTS.map((idx, i) => ({ name: `checker-${i + 1}`, roles: ["checker operator"], index: idx })),
  { name: "keeper", roles: ["keeper"], index: KEEPER_ACCOUNT },
];

/** A registered provider of the demo network. */
export interface NodeInfo {
  name: string;
  nodeId: number;
  url: string;
  config: string;
  gpus: string;
  flaky: boolean;
}

/** A demo rental. */
export interface RentalInfo {
  id: number;
  nodeId: number;
  node: string;
  gpus: number;
}

/** What a fresh network built (or a restored one was saved with). */
export interface Built {
  addresses: Record<string, string>;
  nodes: NodeInfo[];
  rentals: RentalInfo[];
}
