/**
 * The whole chain state of the money walk in one call (`MoneyWalkProbe`).
 */
import type { MoneyWalkProbe } from "../../../typechain-types";
import { HOLDERS, PROVIDERS, RENTERS, TOKENS } from "./constants";
import type { World } from "./world";

export type ProbeState = Awaited<ReturnType<MoneyWalkProbe["read"]>>;

export async function probe(w: World): Promise<ProbeState> {
  return w.probe.read(
    w.addr.escrow,
    w.addr.registry,
    TOKENS.map((t) => w.tokenAddr[t]),
    HOLDERS.map((h) => w.addr[h]),
    RENTERS.map((r) => w.addr[r]),
    PROVIDERS.map((p) => w.addr[p]),
  );
}
