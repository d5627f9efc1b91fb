/**
 * Entry point for `npx hardhat ignition deploy deploy/modules/Kaisar.ts --network <name>`.
 * Parameters come from deploy/parameters/<network>.json (hardhat and localhost use local.json);
 * KAISAR_PARAMETERS=<name> picks another file.
 */
import hre from "hardhat";
import { loadParameters } from "../config";
import { buildKaisarModule } from "../kaisarModule";

const network = hre.network.name;
const file = process.env.KAISAR_PARAMETERS ?? (network === "hardhat" || network === "localhost" ? "local" : network);

export default buildKaisarModule(loadParameters(file));
