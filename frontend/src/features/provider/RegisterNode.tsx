/** The form that registers a node: hardware, region, agent endpoint and a price in the first payment token. */
import { useState } from "react";
import { stringToHex } from "viem";

import { nodeRegistryAbi } from "../../contracts/generated";
import { useGpuClasses } from "../../data/nodes";
import { useTokens } from "../../data/tokens";
import { useAddresses } from "../../hooks/kaisar";
import { call, useTransactor } from "../../hooks/useTransactor";
import { parseAmount } from "../../lib/format";

export function RegisterNode({ onDone }: { onDone: () => void }) {
  const classes = useGpuClasses();
  const tokens = useTokens();
  const { NodeRegistry } = useAddresses();
  const transact = useTransactor();
  const [f, setF] = useState({
    gpuClass: 0,
    gpuCount: 1,
    vramGiB: 80,
    cpuCores: 16,
    ramGiB: 128,
    diskGiB: 1000,
    bandwidthMbps: 1000,
    region: "eu-west",
    uri: "http://127.0.0.1:9000",
    price: "2",
  });
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: ["region", "uri", "price"].includes(k) ? e.target.value : Number(e.target.value) });
  const token = tokens.data?.[0];
  const price = token ? parseAmount(f.price, token.decimals) : undefined;
  const submit = async () => {
    if (!token || !price) return;
    const ok = await transact("Register a node", [
      call({
        label: "Register the node",
        address: NodeRegistry,
        abi: nodeRegistryAbi,
        functionName: "registerNode",
        args: [
          {
            gpuClass: f.gpuClass,
            gpuCount: f.gpuCount,
            vramGiB: f.vramGiB,
            cpuCores: f.cpuCores,
            ramGiB: f.ramGiB,
            diskGiB: f.diskGiB,
            bandwidthMbps: f.bandwidthMbps,
            region: stringToHex(f.region.slice(0, 8), { size: 8 }),
          },
          f.uri,
          [token.address],
          [price],
        ],
      }),
    ]);
    if (ok) onDone();
  };
  const num = (k: keyof typeof f, label: string) => (
    <label>
      {label}
      <input type="number" min={0} value={f[k] as number} onChange={set(k)} data-testid={`reg-${k}`} />
    </label>
  );
  return (
    <div className="card">
      <h2>Register a node</h2>
      <div className="form">
        <label>
          GPU class
          <select value={f.gpuClass} onChange={set("gpuClass")}>
            {classes.data
              ?.filter((c) => c.active)
              .map((c) => (
                <option key={c.index} value={c.index}>
                  {c.name} (stake ×{c.multiplierBps / 10_000})
                </option>
              ))}
          </select>
        </label>
        {num("gpuCount", "GPUs")}
        {num("vramGiB", "VRAM per GPU (GiB)")}
        {num("cpuCores", "CPU cores")}
        {num("ramGiB", "RAM (GiB)")}
        {num("diskGiB", "Disk (GiB)")}
        {num("bandwidthMbps", "Bandwidth (Mbit/s)")}
        <label>
          Region (≤ 8 characters)
          <input value={f.region} maxLength={8} onChange={set("region")} />
        </label>
        <label>
          Agent endpoint
          <input value={f.uri} onChange={set("uri")} />
        </label>
        <label>
          Price ({token?.symbol}/GPU-hour)
          <input value={f.price} onChange={set("price")} data-testid="reg-price" />
        </label>
      </div>
      <button onClick={submit} disabled={!price} data-testid="register">
        Register
      </button>
    </div>
  );
}
