import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

describe("the one HTTP layer (src/http)", () => {
  it("is the only place the node software creates an HTTP server", () => {
    const src = path.join(__dirname, "..", "src");
    const creators = sources(src)
      .filter((file) => !file.startsWith(path.join(src, "http") + path.sep))
      .filter((file) => {
        const text = readFileSync(file, "utf8");
        return (
          /\b(?:http|https|http2)\.createServer\(|\bcreateAdaptorServer\(|\bfrom "@hono\/node-server"/.test(text) ||
          /import \{[^}]*\bcreateServer\b[^}]*\} from "(?:node:)?https?"/.test(text)
        );
      })
      .map((file) => path.relative(src, file));
    expect(creators, "files creating an HTTP server outside src/http").to.deep.equal([]);
  });
});
