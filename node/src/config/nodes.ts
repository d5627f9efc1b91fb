/**
 * The checker's static node list (`nodes`): the nodes to probe and what each registered, until the
 * checker reads them from the NodeRegistry. Each entry: `{ id, url, provider, spec }`, where `url`
 * is the agent's endpoint (the node's metadata URI) and `spec` its declared hardware.
 */
import {
  SettingValueError,
  parseAddress,
  parseHttpUrl,
  parseInteger,
  parseNonEmptyString,
  parserSchema,
} from "./parsers";

/** Hardware a node declared at registration (NodeSpec), with its GPU class by name. */
export interface DeclaredSpec {
  /** The GPU class's name, e.g. "H100-80GB" (NodeRegistry.getGpuClass(spec.gpuClass).name). */
  gpuClass: string;
  gpuCount: number;
  /** Per GPU. */
  vramGiB: number;
  cpuCores?: number;
  ramGiB?: number;
  diskGiB?: number;
  bandwidthMbps?: number;
}

/** A node a checker probes. */
export interface CheckerNode {
  /** NodeRegistry id (1..2^32-1). */
  id: number;
  /** The agent's base URL (http or https). */
  url: string;
  /** The provider's address, checksummed: it signs the node's hardware reports. */
  provider: string;
  spec: DeclaredSpec;
}

const NODE_KEYS = ["id", "url", "provider", "spec"];
const SPEC_KEYS = ["gpuClass", "gpuCount", "vramGiB", "cpuCores", "ramGiB", "diskGiB", "bandwidthMbps"];
const OPTIONAL_SPEC = ["cpuCores", "ramGiB", "diskGiB", "bandwidthMbps"] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function field<T>(where: string, key: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof SettingValueError) throw new SettingValueError(`${where}: ${key} ${e.message}`);
    throw e;
  }
}

function refuseUnknown(where: string, obj: Record<string, unknown>, known: readonly string[], prefix = "") {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k) && !k.startsWith("$")) {
      throw new SettingValueError(`${where}: ${prefix}${k} is not a field (fields: ${known.join(", ")})`);
    }
  }
}

/** The node list: a JSON array, or (from the environment) a string holding one. */
export function parseCheckerNodes(raw: unknown): CheckerNode[] {
  let items = raw;
  if (typeof raw === "string") {
    try {
      items = JSON.parse(raw);
    } catch {
      throw new SettingValueError("is not a JSON list of nodes");
    }
  }
  if (!Array.isArray(items)) throw new SettingValueError(`is a ${typeof items}, not a list of nodes`);
  const seen = new Set<number>();
  return items.map((item, i) => {
    let where = `item ${i + 1}`;
    if (!isObject(item)) throw new SettingValueError(`${where} is not an object like {"id": 1, "url": ..., ...}`);
    refuseUnknown(where, item, NODE_KEYS);
    const id = field(where, "id", () => parseInteger(item.id, 1, 0xffffffff));
    where += ` (node ${id})`;
    if (seen.has(id)) throw new SettingValueError(`${where}: node ${id} is listed twice`);
    seen.add(id);
    const url = field(where, "url", () => parseHttpUrl(item.url));
    const provider = field(where, "provider", () => parseAddress(item.provider));
    const s = item.spec;
    if (!isObject(s))
      throw new SettingValueError(`${where}: spec is not an object like {"gpuClass": "H100-80GB", ...}`);
    refuseUnknown(where, s, SPEC_KEYS, "spec.");
    const spec: DeclaredSpec = {
      gpuClass: field(where, "spec.gpuClass", () => parseNonEmptyString(s.gpuClass)),
      gpuCount: field(where, "spec.gpuCount", () => parseInteger(s.gpuCount, 1, 0xffff)),
      vramGiB: field(where, "spec.vramGiB", () => parseInteger(s.vramGiB, 1, 0xffff)),
    };
    for (const k of OPTIONAL_SPEC) {
      if (s[k] !== undefined) spec[k] = field(where, `spec.${k}`, () => parseInteger(s[k], 0, 0xffffffff));
    }
    return { id, url, provider, spec };
  });
}

/** `parseCheckerNodes` as the settings table's schema. */
export const checkerNodesSchema = parserSchema(parseCheckerNodes);
