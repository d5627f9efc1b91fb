import { expect } from "chai";
import { readFileSync } from "fs";

import {
  CATALOG_FILE,
  CatalogError,
  findTemplate,
  launchSpec,
  loadCatalog,
  shellQuote,
  validateCatalog,
  type Template,
} from "../src/provider";

const RENTER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const RENTER_CHECKSUMMED = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** The repository's catalog as parsed JSON, to break in tests. */
const raw = () => JSON.parse(readFileSync(CATALOG_FILE, "utf8"));

/** The problems of validating `json`. */
function problems(json: unknown): string[] {
  try {
    validateCatalog(json, "test.json");
  } catch (e) {
    expect(e, "a CatalogError").to.be.instanceOf(CatalogError);
    return (e as CatalogError).problems;
  }
  return [];
}

describe("provider template catalog", () => {
  describe("templates/catalog.json", () => {
    it("holds PyTorch, Jupyter, vLLM, ComfyUI and a bare CUDA image, all valid", () => {
      const catalog = loadCatalog();
      expect(
        catalog.templates.map((t) => t.id),
        "ids",
      ).to.deep.equal(["pytorch", "jupyter", "vllm", "comfyui", "cuda"]);
      for (const t of catalog.templates) {
        expect(t.gpus, `${t.id} gpus`).to.be.at.least(1);
        expect(t.volumes.length, `${t.id} has a volume`).to.be.at.least(1);
        expect(t.image, `${t.id} image is pinned to a tag`).to.match(/:[^/]+$/);
      }
      expect(findTemplate(catalog, "jupyter").ports, "jupyter port").to.deep.equal([
        { name: "jupyter", container: 8888, protocol: "tcp" },
      ]);
      expect(findTemplate(catalog, "vllm").ports[0].container, "vllm port").to.equal(8000);
      expect(findTemplate(catalog, "comfyui").ports[0].container, "comfyui port").to.equal(8188);
    });

    it("says which templates there are when one is missing", () => {
      expect(() => findTemplate(loadCatalog(), "tensorflow"), "missing").to.throw(/templates: pytorch, jupyter/);
    });

    it("leaves comments out of the templates", () => {
      const json = raw();
      json.templates[0].$note = "a comment";
      expect(Object.keys(validateCatalog(json).templates[0]), "keys").to.not.include("$note");
    });
  });

  describe("validation", () => {
    it("names the template and the field of each problem, all at once", () => {
      const json = raw();
      json.templates[1].image = "not an image";
      delete json.templates[2].gpus;
      json.templates[3].ports[0].container = 70_000;
      json.templates[4].env = { KAISAR_RENTER: "x", "BAD-NAME": "y" };
      const found = problems(json);
      expect(found, "problems").to.have.length(5);
      expect(found[0], "image").to.match(/^template "jupyter" \(templates\[1\]\): field "image" is "not an image"/);
      expect(found[1], "gpus").to.match(/^template "vllm" \(templates\[2\]\): field "gpus" is missing/);
      expect(found[2], "port").to.match(/^template "comfyui" .*field "ports\[0\]\.container" is 70000/);
      expect(found[3], "reserved").to.match(/^template "cuda" .*field "env\.KAISAR_RENTER" is reserved/);
      expect(found[4], "env name").to.match(/field "env\.BAD-NAME" is not a valid environment variable name/);
    });

    it("refuses repeated ids, unknown fields, bad volumes and bad commands", () => {
      const json = raw();
      json.templates[1].id = "pytorch";
      json.templates[0].gpuCount = 2;
      json.templates[2].volumes.push({ name: "hf-cache", containerPath: "/x" });
      json.templates[3].volumes[0].containerPath = "relative/path";
      json.templates[4].command = "sleep infinity";
      json.templates[0].shmSize = "lots";
      const text = problems(json).join("\n");
      expect(text, "repeated id").to.match(/template "pytorch" \(templates\[1\]\): field "id" repeats "pytorch"/);
      expect(text, "unknown field").to.match(
        /template "pytorch" \(templates\[0\]\): field "gpuCount" is not a template field/,
      );
      expect(text, "repeated volume").to.match(/"volumes\[1\]\.name" repeats "hf-cache"/);
      expect(text, "relative path").to.match(/"volumes\[0\]\.containerPath" is "relative\/path", not an absolute path/);
      expect(text, "command").to.match(/template "cuda" .*"command" is "sleep infinity", not a list of strings/);
      expect(text, "shm").to.match(/"shmSize" is "lots"/);
    });

    it("names a template without an id by its position", () => {
      const json = raw();
      delete json.templates[2].id;
      expect(problems(json)[0], "position").to.match(/^template #3 \(templates\[2\]\): field "id" is missing/);
    });

    it("refuses a catalog that is not one", () => {
      expect(problems([]), "a list").to.deep.equal(["is not a JSON object"]);
      expect(problems({ version: 2, templates: [] }), "empty").to.deep.equal([
        '"version" is 2, not 1',
        '"templates" is [], not a non-empty list',
      ]);
      expect(() => loadCatalog("/nonexistent/catalog.json"), "missing file").to.throw(CatalogError, /cannot be read/);
    });
  });

  describe("launchSpec", () => {
    const catalog = loadCatalog();

    it("describes the container of a rental as JSON and as a docker run command line", () => {
      const jupyter = findTemplate(catalog, "jupyter");
      const { spec, argv, command } = launchSpec(jupyter, { rentalId: 42n, gpus: 2, renter: RENTER });
      expect(spec, "spec").to.deep.equal({
        name: "kaisar-rental-42",
        template: "jupyter",
        image: jupyter.image,
        rentalId: "42",
        renter: RENTER_CHECKSUMMED,
        gpus: 2,
        ports: [{ name: "jupyter", container: 8888, protocol: "tcp" }],
        volumes: [{ volume: "kaisar-rental-42-work", containerPath: "/home/jovyan/work" }],
        env: { KAISAR_GPUS: "2", KAISAR_RENTAL_ID: "42", KAISAR_RENTER: RENTER_CHECKSUMMED },
        labels: { "kaisar.rental": "42", "kaisar.renter": RENTER_CHECKSUMMED, "kaisar.template": "jupyter" },
        command: [],
        shmSize: "8g",
      });
      expect(JSON.parse(JSON.stringify(spec)), "plain JSON").to.deep.equal(spec);
      expect(argv.slice(0, 9), "argv").to.deep.equal([
        "docker",
        "run",
        "--detach",
        "--name",
        "kaisar-rental-42",
        "--gpus",
        "2",
        "--restart",
        "unless-stopped",
      ]);
      expect(command, "command line").to.equal(
        "docker run --detach --name kaisar-rental-42 --gpus 2 --restart unless-stopped --shm-size 8g " +
          `--label kaisar.rental=42 --label kaisar.renter=${RENTER_CHECKSUMMED} --label kaisar.template=jupyter ` +
          "--publish 8888/tcp --volume kaisar-rental-42-work:/home/jovyan/work " +
          `--env KAISAR_GPUS=2 --env KAISAR_RENTAL_ID=42 --env KAISAR_RENTER=${RENTER_CHECKSUMMED} ${jupyter.image}`,
      );
    });

    it("takes the template's GPU count by default and passes its command after the image", () => {
      const vllm = findTemplate(catalog, "vllm");
      const { spec, argv } = launchSpec(vllm, { rentalId: "7", renter: RENTER });
      expect(spec.gpus, "default gpus").to.equal(vllm.gpus);
      expect(argv.slice(argv.indexOf(vllm.image)), "image then command").to.deep.equal([vllm.image, ...vllm.command!]);
      expect(spec.env.HF_HOME, "template env").to.equal("/root/.cache/huggingface");
    });

    it("quotes what the shell would split", () => {
      const t: Template = {
        ...findTemplate(catalog, "cuda"),
        env: { GREETING: "hello world", QUOTE: "it's" },
        command: ["bash", "-c", "echo $HOME && sleep infinity"],
      };
      const { command } = launchSpec(t, { rentalId: 1, renter: RENTER });
      expect(command, "space").to.include(" --env 'GREETING=hello world' ");
      expect(command, "quote").to.include(" --env 'QUOTE=it'\\''s' ");
      expect(command, "command").to.match(/ bash -c 'echo \$HOME && sleep infinity'$/);
      expect(shellQuote("plain-word_1.2:3"), "safe").to.equal("plain-word_1.2:3");
      expect(shellQuote(""), "empty").to.equal("''");
    });

    it("refuses a bad rental", () => {
      const cuda = findTemplate(catalog, "cuda");
      expect(() => launchSpec(cuda, { rentalId: 1, gpus: 0, renter: RENTER }), "0 gpus").to.throw(/gpus = 0/);
      expect(() => launchSpec(cuda, { rentalId: 1, gpus: 1.5, renter: RENTER }), "fraction").to.throw(/gpus/);
      expect(() => launchSpec(cuda, { rentalId: -1, renter: RENTER }), "negative id").to.throw(/rental id/);
      expect(() => launchSpec(cuda, { rentalId: "1; rm -rf /", renter: RENTER }), "id").to.throw(/rental id/);
      expect(() => launchSpec(cuda, { rentalId: 1, renter: "0x1234" }), "renter").to.throw();
    });
  });
});
