/**
 * Entry point for `npx hardhat ignition deploy deploy/modules/Kaisar.ts --network <name>`.
 * Parameters come from deploy/parameters/<network>.json (hardhat and localhost use local.json);
 * KAISAR_PARAMETERS=<name> picks another file. On a local chain only, KAISAR_EPOCH_SECONDS
 * shortens the epochs (`npm start` and its smoke test use it); agung and peaq ignore it.
 */
import hre from "hardhat";
import { loadParameters, validateParameters } from "../config";
import { buildKaisarModule } from "../kaisarModule";

const network = hre.network.name;
const local = network === "hardhat" || network === "localhost";
const file = process.env.KAISAR_PARAMETERS || (local ? "local" : network);

let parameters = loadParameters(file);
if (local && process.env.KAISAR_EPOCH_SECONDS) {
  parameters = validateParameters(
    { ...parameters, epochLengthSeconds: Number(process.env.KAISAR_EPOCH_SECONDS) },
    `${file}.json with KAISAR_EPOCH_SECONDS`,
  );
}

export default buildKaisarModule(parameters);
