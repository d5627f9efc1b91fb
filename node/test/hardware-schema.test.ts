/**
 * The hardware profile's JSON Schema (node/schemas/hardware-profile.schema.json) is derived from the
 * validator's own table: the committed file is what `hardwareProfileSchema` writes, and the schema and
 * the validator the CLI runs accept and refuse the same profiles.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";

import { HARDWARE_PROFILE_SCHEMA_FILE, hardwareProfileSchema, validateHardwareProfile } from "../src/provider";

const ROOT = path.join(__dirname, "..", "..");
const GOOD = { gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 2, vramGiB: 24 };

describe("hardware profile JSON Schema", () => {
  it("the committed schema file is the one derived from the validator", () => {
    const committed = JSON.parse(readFileSync(path.join(ROOT, HARDWARE_PROFILE_SCHEMA_FILE), "utf8"));
    expect(
      committed,
      `${HARDWARE_PROFILE_SCHEMA_FILE} is stale: npx ts-node --transpile-only node/scripts/write-hardware-schema.ts`,
    ).to.deep.equal(hardwareProfileSchema());
  });

  it("the schema and the CLI's validator agree on every sample profile", () => {
    // Ajv (a JSON Schema validator; here as installed with the lint tools) judges by the schema alone.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = require("ajv");
    const check = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync(path.join(ROOT, HARDWARE_PROFILE_SCHEMA_FILE), "utf8")),
    );
    const samples: [string, unknown, boolean][] = [
      ["required fields", GOOD, true],
      ["every field", { ...GOOD, cpuCores: 16, ramGiB: 64, diskGiB: 0, bandwidthMbps: 1000 }, true],
      ["comments", { ...GOOD, $comment: "a lab machine", $schema: "./hardware-profile.schema.json" }, true],
      ["null optional", { ...GOOD, ramGiB: null }, true],
      ["no gpuModel", { gpuCount: 2, vramGiB: 24 }, false],
      ["blank gpuModel", { ...GOOD, gpuModel: "  " }, false],
      ["gpuCount 0", { ...GOOD, gpuCount: 0 }, false],
      ["gpuCount 65536", { ...GOOD, gpuCount: 65_536 }, false],
      ["vramGiB as a string", { ...GOOD, vramGiB: "24" }, false],
      ["fractional cores", { ...GOOD, cpuCores: 1.5 }, false],
      ["negative bandwidth", { ...GOOD, bandwidthMbps: -1 }, false],
      ["ramGiB above uint32", { ...GOOD, ramGiB: 2 ** 32 }, false],
      ["unknown field", { ...GOOD, ramGib: 64 }, false],
      ["not an object", [GOOD], false],
    ];
    for (const [what, profile, valid] of samples) {
      let validator = true;
      try {
        validateHardwareProfile(profile);
      } catch {
        validator = false;
      }
      expect(validator, `validator: ${what}`).to.equal(valid);
      expect(check(profile), `schema: ${what} ${JSON.stringify(check.errors)}`).to.equal(valid);
    }
  });

  it("a bad profile's message points at the schema file", () => {
    expect(() => validateHardwareProfile({ ...GOOD, gpuCount: 0 }, "hw.json")).to.throw(
      `the format: ${HARDWARE_PROFILE_SCHEMA_FILE}`,
    );
  });
});
