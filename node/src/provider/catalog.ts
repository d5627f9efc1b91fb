/**
 * The template catalog (templates/catalog.json at the repository root, also read by the web app) and
 * the launch spec of a rental: the container a provider starts for a renter, as a JSON object and as
 * a `docker run` command line. The agent does not run Docker itself (launching stays off); it
 * describes what to run.
 */
import { readFileSync } from "fs";
import path from "path";

import { getAddress } from "ethers";

/** templates/catalog.json of this repository. */
export const CATALOG_FILE = path.resolve(__dirname, "..", "..", "..", "templates", "catalog.json");

export interface TemplatePort {
  /** What it serves, e.g. "jupyter". */
  name: string;
  /** Port inside the container; published on a free port of the host. */
  container: number;
  protocol: "tcp" | "udp";
}

export interface TemplateVolume {
  /** Lower case, digits and dashes; the rental's Docker volume is kaisar-rental-<id>-<name>. */
  name: string;
  /** Absolute path inside the container. */
  containerPath: string;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  /** Docker image reference, e.g. "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime". */
  image: string;
  ports: TemplatePort[];
  /** GPUs a rental of this template gets when it does not say. */
  gpus: number;
  volumes: TemplateVolume[];
  env: Record<string, string>;
  /** Arguments after the image (the image's default command if absent). */
  command?: string[];
  /** /dev/shm size, e.g. "8g" (PyTorch data loaders need more than Docker's 64 MiB). */
  shmSize?: string;
}

export interface Catalog {
  version: number;
  templates: Template[];
}

/** A catalog that cannot be used; each problem names the template and the field. */
export class CatalogError extends Error {
  override name = "CatalogError";
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `template catalog ${source} has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
}

const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A Docker image reference: [registry[:port]/]repo[/repo...][:tag][@sha256:digest], no spaces. */
const IMAGE =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SHM = /^\d+[bkmg]?$/;
const TEMPLATE_KEYS = ["id", "name", "description", "image", "ports", "gpus", "volumes", "env", "command", "shmSize"];
/** GPUs one rental may ask for. */
export const MAX_RENTAL_GPUS = 64;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? "missing" : JSON.stringify(v));

/** Validates a parsed catalog; throws a `CatalogError` listing every problem. */
export function validateCatalog(json: unknown, source = "catalog"): Catalog {
  const problems: string[] = [];
  if (!isObj(json)) throw new CatalogError(source, ["is not a JSON object"]);
  if (json.version !== 1) problems.push(`"version" is ${show(json.version)}, not 1`);
  for (const key of Object.keys(json)) {
    if (!key.startsWith("$") && key !== "version" && key !== "templates") {
      problems.push(`"${key}" is not a catalog field (version, templates)`);
    }
  }
  if (!Array.isArray(json.templates) || json.templates.length === 0) {
    problems.push(`"templates" is ${show(json.templates)}, not a non-empty list`);
    throw new CatalogError(source, problems);
  }
  const seen = new Set<string>();
  const templates = json.templates.map((raw: unknown, i: number) => {
    const t = isObj(raw) ? raw : {};
    const where = `template ${typeof t.id === "string" ? `"${t.id}"` : `#${i + 1}`} (templates[${i}])`;
    const bad = (field: string, what: string) => problems.push(`${where}: field "${field}" ${what}`);
    if (!isObj(raw)) {
      problems.push(`${where} is not an object`);
      return undefined;
    }
    for (const key of Object.keys(t)) {
      if (!key.startsWith("$") && !TEMPLATE_KEYS.includes(key)) {
        bad(key, `is not a template field (fields: ${TEMPLATE_KEYS.join(", ")})`);
      }
    }
    if (typeof t.id !== "string" || !ID.test(t.id))
      bad("id", `is ${show(t.id)}, not lower case letters, digits and dashes`);
    else if (seen.has(t.id)) bad("id", `repeats "${t.id}"`);
    else seen.add(t.id);
    for (const field of ["name", "description"]) {
      if (typeof t[field] !== "string" || (t[field] as string).trim() === "")
        bad(field, `is ${show(t[field])}, not a non-empty string`);
    }
    if (typeof t.image !== "string" || !IMAGE.test(t.image)) {
      bad("image", `is ${show(t.image)}, not a Docker image reference like "nvidia/cuda:12.4.1-runtime-ubuntu22.04"`);
    }
    if (typeof t.gpus !== "number" || !Number.isInteger(t.gpus) || t.gpus < 1 || t.gpus > MAX_RENTAL_GPUS) {
      bad("gpus", `is ${show(t.gpus)}, not a whole number in 1..${MAX_RENTAL_GPUS}`);
    }
    if (!Array.isArray(t.ports)) bad("ports", `is ${show(t.ports)}, not a list`);
    else {
      const used = new Set<string>();
      t.ports.forEach((p: unknown, j: number) => {
        const f = `ports[${j}]`;
        if (!isObj(p)) return void bad(f, "is not an object {name, container, protocol}");
        if (typeof p.name !== "string" || !ID.test(p.name))
          bad(`${f}.name`, `is ${show(p.name)}, not lower case letters, digits and dashes`);
        if (
          typeof p.container !== "number" ||
          !Number.isInteger(p.container) ||
          p.container < 1 ||
          p.container > 65535
        ) {
          bad(`${f}.container`, `is ${show(p.container)}, not a port in 1..65535`);
        }
        if (p.protocol !== "tcp" && p.protocol !== "udp")
          bad(`${f}.protocol`, `is ${show(p.protocol)}, not "tcp" or "udp"`);
        const key = `${String(p.container)}/${String(p.protocol)}`;
        if (used.has(key)) bad(`${f}.container`, `repeats ${key}`);
        used.add(key);
        for (const k of Object.keys(p))
          if (!["name", "container", "protocol"].includes(k))
            bad(`${f}.${k}`, "is not a port field (name, container, protocol)");
      });
    }
    if (!Array.isArray(t.volumes)) bad("volumes", `is ${show(t.volumes)}, not a list`);
    else {
      const names = new Set<string>();
      t.volumes.forEach((v: unknown, j: number) => {
        const f = `volumes[${j}]`;
        if (!isObj(v)) return void bad(f, "is not an object {name, containerPath}");
        if (typeof v.name !== "string" || !ID.test(v.name))
          bad(`${f}.name`, `is ${show(v.name)}, not lower case letters, digits and dashes`);
        else if (names.has(v.name)) bad(`${f}.name`, `repeats "${v.name}"`);
        else names.add(v.name);
        if (
          typeof v.containerPath !== "string" ||
          !path.posix.isAbsolute(v.containerPath) ||
          /[\s:,]/.test(v.containerPath)
        ) {
          bad(
            `${f}.containerPath`,
            `is ${show(v.containerPath)}, not an absolute path without spaces, colons or commas`,
          );
        }
        for (const k of Object.keys(v))
          if (!["name", "containerPath"].includes(k)) bad(`${f}.${k}`, "is not a volume field (name, containerPath)");
      });
    }
    if (!isObj(t.env)) bad("env", `is ${show(t.env)}, not an object of strings`);
    else {
      for (const [k, v] of Object.entries(t.env)) {
        if (!ENV_NAME.test(k)) bad(`env.${k}`, "is not a valid environment variable name");
        else if (k.startsWith("KAISAR_")) bad(`env.${k}`, "is reserved (the agent sets KAISAR_* variables)");
        if (typeof v !== "string") bad(`env.${k}`, `is ${show(v)}, not a string`);
      }
    }
    if (t.command !== undefined && (!Array.isArray(t.command) || !t.command.every((a) => typeof a === "string"))) {
      bad("command", `is ${show(t.command)}, not a list of strings`);
    }
    if (t.shmSize !== undefined && (typeof t.shmSize !== "string" || !SHM.test(t.shmSize))) {
      bad("shmSize", `is ${show(t.shmSize)}, not a size like "8g"`);
    }
    // Comments ("$" keys) left out.
    return Object.fromEntries(
      TEMPLATE_KEYS.filter((k) => t[k] !== undefined).map((k) => [k, t[k]]),
    ) as unknown as Template;
  });
  if (problems.length > 0) throw new CatalogError(source, problems);
  return { version: 1, templates: templates as Template[] };
}

/** Reads and validates a catalog file (default: the repository's templates/catalog.json). */
export function loadCatalog(file: string = CATALOG_FILE): Catalog {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new CatalogError(file, [`cannot be read: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CatalogError(file, [`is not valid JSON: ${(e as Error).message}`]);
  }
  return validateCatalog(json, file);
}

/** The template `id` of `catalog`; throws naming the ids there are. */
export function findTemplate(catalog: Catalog, id: string): Template {
  const t = catalog.templates.find((x) => x.id === id);
  if (!t) throw new RangeError(`no template "${id}" (templates: ${catalog.templates.map((x) => x.id).join(", ")})`);
  return t;
}

/** What the launch spec needs of a rental (from RentalEscrow's `OpenRental`). */
export interface RentalInfo {
  /** The rental's id on chain (uint256). */
  rentalId: bigint | number | string;
  /** GPUs rented (default: the template's). */
  gpus?: number;
  /** The renter's address. */
  renter: string;
}

/** The container to start for a rental. */
export interface LaunchSpec {
  /** Container name: kaisar-rental-<rentalId>. */
  name: string;
  template: string;
  image: string;
  /** Decimal. */
  rentalId: string;
  /** Checksummed. */
  renter: string;
  gpus: number;
  /** Container ports published on free host ports ("8888/tcp"). */
  ports: TemplatePort[];
  /** Named Docker volumes, one per rental and template volume. */
  volumes: { volume: string; containerPath: string }[];
  /** The template's env plus KAISAR_RENTAL_ID, KAISAR_RENTER and KAISAR_GPUS, sorted by name. */
  env: Record<string, string>;
  labels: Record<string, string>;
  command: string[];
  shmSize?: string;
}

export interface Launch {
  spec: LaunchSpec;
  /** `docker` and its arguments, to run without a shell. */
  argv: string[];
  /** The same as one shell command line (arguments quoted where needed). */
  command: string;
}

/** The launch spec of `rental` with `template`: a JSON object, its `docker run` argv and command line. */
export function launchSpec(template: Template, rental: RentalInfo): Launch {
  const rentalId = decimalId(rental.rentalId);
  const renter = getAddress(rental.renter);
  const gpus = rental.gpus ?? template.gpus;
  if (!Number.isInteger(gpus) || gpus < 1 || gpus > MAX_RENTAL_GPUS) {
    throw new RangeError(`rental ${rentalId}: gpus = ${gpus} is not a whole number in 1..${MAX_RENTAL_GPUS}`);
  }
  const name = `kaisar-rental-${rentalId}`;
  const env: Record<string, string> = {
    ...template.env,
    KAISAR_GPUS: String(gpus),
    KAISAR_RENTAL_ID: rentalId,
    KAISAR_RENTER: renter,
  };
  const spec: LaunchSpec = {
    name,
    template: template.id,
    image: template.image,
    rentalId,
    renter,
    gpus,
    ports: template.ports.map((p) => ({ ...p })),
    volumes: template.volumes.map((v) => ({ volume: `${name}-${v.name}`, containerPath: v.containerPath })),
    env: Object.fromEntries(
      Object.keys(env)
        .sort()
        .map((k) => [k, env[k]]),
    ),
    labels: { "kaisar.rental": rentalId, "kaisar.renter": renter, "kaisar.template": template.id },
    command: [...(template.command ?? [])],
    ...(template.shmSize ? { shmSize: template.shmSize } : {}),
  };
  const argv = ["docker", "run", "--detach", "--name", name, "--gpus", String(gpus), "--restart", "unless-stopped"];
  if (spec.shmSize) argv.push("--shm-size", spec.shmSize);
  for (const [k, v] of Object.entries(spec.labels)) argv.push("--label", `${k}=${v}`);
  for (const p of spec.ports) argv.push("--publish", `${p.container}/${p.protocol}`);
  for (const v of spec.volumes) argv.push("--volume", `${v.volume}:${v.containerPath}`);
  for (const [k, v] of Object.entries(spec.env)) argv.push("--env", `${k}=${v}`);
  argv.push(spec.image, ...spec.command);
  return { spec, argv, command: argv.map(shellQuote).join(" ") };
}

function decimalId(id: bigint | number | string): string {
  let v: bigint;
  if (typeof id === "bigint") v = id;
  else if (typeof id === "number" && Number.isSafeInteger(id)) v = BigInt(id);
  else if (typeof id === "string" && /^(0x[0-9a-fA-F]+|\d+)$/.test(id)) v = BigInt(id);
  else throw new RangeError(`rental id ${String(id)} is not a whole number`);
  if (v < 0n || v >= 1n << 256n) throw new RangeError(`rental id ${v} is not a uint256`);
  return v.toString();
}

/** `s` as one POSIX shell word: as is when it only holds safe characters, else in single quotes. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
