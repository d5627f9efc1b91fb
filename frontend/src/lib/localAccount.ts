/**
 * "Local test account": an EIP-1193 provider that signs with one of the local network's demo keys
 * (from `npm start`'s .kaisar/local.json), so a newcomer can try everything without a wallet. Only ever
 * offered on the local chain. Reads go to the local RPC; transactions and signatures are made here.
 */
import { createWalletClient, http, numberToHex, type Chain, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

type RequestArgs = { method: string; params?: unknown[] | Record<string, unknown> };

class ProviderRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Typed data from a JSON request: uint/int fields of the message as bigints again. */
function typedDataFromJson(json: string) {
  const data = JSON.parse(json) as {
    domain: Record<string, unknown>;
    types: Record<string, { name: string; type: string }[]>;
    primaryType: string;
    message: Record<string, unknown>;
  };
  const fix = (type: string, value: unknown): unknown => {
    if (/^u?int\d*$/.test(type)) return BigInt(value as string);
    const fields = data.types[type];
    if (fields && value && typeof value === "object") {
      return Object.fromEntries(fields.map((f) => [f.name, fix(f.type, (value as Record<string, unknown>)[f.name])]));
    }
    return value;
  };
  const { EIP712Domain: _domainType, ...types } = data.types;
  return {
    domain: data.domain,
    types,
    primaryType: data.primaryType,
    message: fix(data.primaryType, data.message) as Record<string, unknown>,
  };
}

export function localAccountProvider(privateKey: Hex, chain: Chain) {
  const account = privateKeyToAccount(privateKey);
  const rpcUrl = chain.rpcUrls.default.http[0];
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
  // Like a wallet: the account is exposed only once the person picked it (kept across reloads).
  const grantKey = `kaisar.localAccount.${account.address}`;
  const granted = () => typeof localStorage !== "undefined" && localStorage.getItem(grantKey) === "1";
  const grant = (on: boolean) => {
    if (typeof localStorage === "undefined") return;
    if (on) localStorage.setItem(grantKey, "1");
    else localStorage.removeItem(grantKey);
  };
  let id = 0;
  const forward = async (method: string, params: unknown) => {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params ?? [] }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string; data?: unknown } };
    if (body.error)
      throw Object.assign(new ProviderRpcError(body.error.code, body.error.message), { data: body.error.data });
    return body.result;
  };
  return {
    address: account.address,
    on() {},
    removeListener() {},
    async request({ method, params }: RequestArgs): Promise<unknown> {
      const p = (params ?? []) as unknown[];
      switch (method) {
        case "eth_accounts":
          return granted() ? [account.address] : [];
        case "eth_requestAccounts":
          grant(true);
          return [account.address];
        case "eth_chainId":
          return numberToHex(chain.id);
        case "wallet_switchEthereumChain":
          if (Number((p[0] as { chainId: string }).chainId) === chain.id) return null;
          throw new ProviderRpcError(4902, "the local test account only works on the local chain");
        case "wallet_requestPermissions":
          grant(true);
          return [{ parentCapability: "eth_accounts" }];
        case "wallet_getPermissions":
          return granted() ? [{ parentCapability: "eth_accounts" }] : [];
        case "wallet_revokePermissions":
          grant(false);
          return null;
        case "personal_sign":
          return account.signMessage({ message: { raw: p[0] as Hex } });
        case "eth_signTypedData_v4":
          return account.signTypedData(
            typedDataFromJson(p[1] as string) as Parameters<typeof account.signTypedData>[0],
          );
        case "eth_sendTransaction": {
          const tx = p[0] as { to?: Hex; data?: Hex; value?: Hex; gas?: Hex };
          return wallet.sendTransaction({
            to: tx.to,
            data: tx.data,
            value: tx.value ? BigInt(tx.value) : undefined,
            gas: tx.gas ? BigInt(tx.gas) : undefined,
          });
        }
        default:
          return forward(method, params);
      }
    },
  };
}
