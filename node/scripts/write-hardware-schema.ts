/**
 * Writes node/schemas/hardware-profile.schema.json from the validator's table (src/provider/hardware.ts):
 *
 *   npx ts-node --transpile-only node/scripts/write-hardware-schema.ts
 *
 * node/test/hardware-schema.test.ts fails while the committed file differs from what this writes.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";

import { format } from "prettier";

import { HARDWARE_PROFILE_SCHEMA_FILE, hardwareProfileSchema } from "../src/provider/hardware";

const file = path.join(__dirname, "..", "..", HARDWARE_PROFILE_SCHEMA_FILE);
void format(JSON.stringify(hardwareProfileSchema()), { parser: "json" }).then((text) => {
  writeFileSync(file, text);
  console.log(`wrote ${HARDWARE_PROFILE_SCHEMA_FILE}`);
});
