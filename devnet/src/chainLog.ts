/**
 * The local chain's log lines as `npm start` prints them: Hardhat does not know the Kaisar contracts'
 * custom errors (the web app's reverts print "reverted with an unrecognized custom error (return data:
 * 0x...)"), so the return data is decoded here with every contract's ABI and NatSpec (`decodeRevert`
 * of ../chain/tx, the CLI's decoder): "reverted with RentalEscrow_X(arg=1): <the error's sentence>".
 */
import { decodeRevert } from "../../node/src/chain/tx";

const UNRECOGNIZED = /an unrecognized custom error \(return data: (0x[0-9a-fA-F]*)\)/g;

/** `line` with each unrecognized custom error it names decoded (unchanged where none is known). */
export function decodeChainLogLine(line: string): string {
  return line.replace(UNRECOGNIZED, (whole, data: string) => {
    const decoded = decodeRevert({ data });
    if (!decoded) return whole;
    const args = Object.entries(decoded.args)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    return `${decoded.name}(${args})` + (decoded.sentence ? `: ${decoded.sentence}` : "");
  });
}
