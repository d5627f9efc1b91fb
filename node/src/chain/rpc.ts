/**
 * The JSON-RPC client with fail-over, used by the keeper and by every CLI command that sends
 * transactions (tx.ts `openChain`): every call has a timeout, and goes to the first URL (`rpcUrl`) then, when
 * that one fails (connection refused, timeout, HTTP error, a body that is not JSON-RPC), to the second
 * (`rpcUrlFallback`), for a few rounds. A JSON-RPC error answer (a revert, "nonce too low") is an answer,
 * not a failure: it is returned as is. No response cache, no network detection round trip.
 *
 * Re-sending a call is safe: reads are reads, and `eth_sendRawTransaction` of the same
 * signed bytes is idempotent on chain (a node answers "already known" or the hash; tx.ts handles both).
 */
import { JsonRpcApiProvider, Network, type JsonRpcError, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { ENV } from "../config/schema";

export interface FailoverOptions {
  chainId: number;
  /** The primary URL first, then the fallback. */
  urls: string[];
  /** Per-call timeout, milliseconds. */
  timeoutMs: number;
  /** Scales the retries of one call (default 5): see `_send`. */
  rounds?: number;
  /** Told when a URL fails (for logs). */
  onFailure?: (url: string, method: string, error: string) => void;
}

/** Whether `error` says that no RPC URL answered (as opposed to an answer, such as a revert). */
export function rpcUnavailable(error: string): boolean {
  return /every RPC URL failed|no JSON-RPC endpoint answered|RPC_UNAVAILABLE/.test(error);
}

/** All URLs failed for one call. */
export class RpcUnavailableError extends Error {
  readonly code = "RPC_UNAVAILABLE";
}

/** An ethers provider over several JSON-RPC URLs with per-call timeouts and failover. */
export class FailoverRpcProvider extends JsonRpcApiProvider {
  readonly urls: string[];
  readonly timeoutMs: number;
  private readonly rounds: number;
  private readonly onFailure?: FailoverOptions["onFailure"];
  /** The URL that answered last (tried first next time). */
  private preferred = 0;

  constructor(options: FailoverOptions) {
    super(Network.from(options.chainId), { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
    this.urls = options.urls.filter((u) => u);
    if (this.urls.length === 0) throw new Error(`no RPC URL: set rpcUrl (env ${ENV.rpcUrl})`);
    this.timeoutMs = options.timeoutMs;
    this.rounds = options.rounds ?? 5;
    this.onFailure = options.onFailure;
  }

  /** Posts `payload` to one URL, with the timeout. */
  async post(url: string, payload: unknown): Promise<unknown> {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<(JsonRpcResult | JsonRpcError)[]> {
    const method = Array.isArray(payload) ? payload.map((p) => p.method).join(",") : payload.method;
    let last = "";
    let timeouts = 0;
    // Fast failures (refused, dropped) are retried up to `rounds` x 8 times; timeouts cost the most and
    // are bounded on their own: `rounds` + 3 of them, so a hung RPC fails the call in bounded time.
    for (let attempt = 0; attempt < this.rounds * 8 * this.urls.length && timeouts < this.rounds + 3; attempt++) {
      // A short pause after each full round: a node that just dropped us may be back.
      if (attempt > 0 && attempt % this.urls.length === 0) {
        await new Promise((r) => setTimeout(r, Math.min(25 * (attempt / this.urls.length), 250)));
      }
      const i = (this.preferred + attempt) % this.urls.length;
      const url = this.urls[i];
      try {
        const body = await this.post(url, payload);
        const answers = (Array.isArray(body) ? body : [body]) as (JsonRpcResult | JsonRpcError)[];
        if (!answers.every((a) => a && typeof a === "object" && "id" in a && ("result" in a || "error" in a))) {
          throw new Error("the answer is not JSON-RPC");
        }
        this.preferred = i;
        return answers;
      } catch (e) {
        const timedOut = (e as Error).name === "TimeoutError";
        if (timedOut) timeouts++;
        last = timedOut ? `timed out after ${this.timeoutMs} ms` : (e as Error).message;
        this.onFailure?.(url, method, last);
      }
    }
    throw new RpcUnavailableError(`${method}: every RPC URL failed (${this.urls.join(", ")}); last: ${last}`);
  }
}

/** The setting a URL of `provider.urls` comes from. */
function settingOf(index: number): string {
  return index === 0 ? `rpcUrl (env ${ENV.rpcUrl})` : `rpcUrlFallback (env ${ENV.rpcUrlFallback})`;
}

/**
 * Checks that every URL that answers serves `expected`. Throws naming the setting (rpcUrl or
 * rpcUrlFallback) on a mismatch, and when none answers. Returns the URLs that answered, in order.
 */
export async function checkChainIds(provider: FailoverRpcProvider, expected: number): Promise<string[]> {
  const answered: string[] = [];
  const errors: string[] = [];
  for (const [i, url] of provider.urls.entries()) {
    const setting = settingOf(i);
    let actual: number;
    try {
      const body = (await provider.post(url, { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] })) as {
        result?: string;
      };
      actual = Number(body.result);
    } catch (e) {
      errors.push(
        `${setting} ${url}: ${(e as Error).name === "TimeoutError" ? `timed out after ${provider.timeoutMs} ms` : (e as Error).message}`,
      );
      continue;
    }
    if (actual !== expected) {
      throw new Error(
        `the RPC at ${url} (${setting}) serves chain ${actual}, but chainId (env ${ENV.chainId}) is ${expected}: ` +
          `point ${setting.split(" ")[0]} at a node of chain ${expected}, or set chainId to ${actual}`,
      );
    }
    answered.push(url);
  }
  if (answered.length === 0) {
    throw new RpcUnavailableError(
      `no JSON-RPC endpoint answered: ${errors.join("; ")}. Start the chain's node or fix rpcUrl (env ${ENV.rpcUrl})`,
    );
  }
  return answered;
}
