import { expect } from "chai";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import os from "os";
import path from "path";

import {
  HardwareDetectionError,
  HardwareProfileError,
  NVIDIA_SMI_ARGS,
  NvidiaSmiParseError,
  detectHardware,
  parseNvidiaSmi,
  summarizeGpus,
  validateHardwareProfile,
  type RunProgram,
} from "../src/provider";

/** Sample outputs of `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`. */
const SMI = {
  h100x8: Array.from({ length: 8 }, () => "NVIDIA H100 80GB HBM3, 81559").join("\n") + "\n",
  rtx4090: "NVIDIA GeForce RTX 4090, 24564\n",
  a100x2crlf: "NVIDIA A100-SXM4-40GB, 40960\r\nNVIDIA A100-SXM4-40GB, 40960\r\n",
  mixed: "NVIDIA GeForce RTX 3090, 24576\nNVIDIA GeForce RTX 4090, 24564\nNVIDIA GeForce RTX 4090, 24564\n",
  na: "NVIDIA GeForce RTX 4090, [N/A]\n",
  noDevices: "No devices were found\n",
};

/** A `run` that answers like nvidia-smi with `stdout`, or fails with `error`. */
function fakeSmi(result: {
  stdout?: string;
  error?: Partial<NodeJS.ErrnoException & { killed: boolean; signal: string }>;
}) {
  const calls: { file: string; args: readonly string[] }[] = [];
  const run: RunProgram = async (file, args) => {
    calls.push({ file, args });
    if (result.error) throw Object.assign(new Error(result.error.message ?? "failed"), result.error);
    return result.stdout ?? "";
  };
  return { run, calls };
}

const PROFILE = { gpuModel: "NVIDIA GeForce RTX 4090", gpuCount: 1, vramGiB: 24, bandwidthMbps: 500 };

describe("provider hardware", () => {
  describe("parseNvidiaSmi", () => {
    it("parses one GPU", () => {
      expect(parseNvidiaSmi(SMI.rtx4090), "4090").to.deep.equal([
        { name: "NVIDIA GeForce RTX 4090", memoryMiB: 24564 },
      ]);
    });

    it("parses several GPUs, with CRLF line ends and blank lines", () => {
      expect(parseNvidiaSmi(SMI.h100x8), "8 x H100").to.have.length(8);
      expect(parseNvidiaSmi(SMI.a100x2crlf + "\n\n"), "2 x A100").to.deep.equal([
        { name: "NVIDIA A100-SXM4-40GB", memoryMiB: 40960 },
        { name: "NVIDIA A100-SXM4-40GB", memoryMiB: 40960 },
      ]);
    });

    it('reads "[N/A]" as an unknown memory', () => {
      expect(parseNvidiaSmi(SMI.na), "[N/A]").to.deep.equal([{ name: "NVIDIA GeForce RTX 4090", memoryMiB: null }]);
    });

    it("keeps commas in a GPU's name (the memory is after the last one)", () => {
      expect(parseNvidiaSmi("Weird, GPU, 1024"), "name").to.deep.equal([{ name: "Weird, GPU", memoryMiB: 1024 }]);
    });

    it("reads no output as no GPU", () => {
      expect(parseNvidiaSmi(""), "empty").to.deep.equal([]);
      expect(parseNvidiaSmi("\n  \n"), "blank").to.deep.equal([]);
    });

    it("refuses garbage, naming the line", () => {
      const cases: [string, RegExp][] = [
        [SMI.noDevices, /line 1 .*No devices were found/],
        ["NVIDIA GeForce RTX 4090, 24564\nhello", /line 2 .*hello/],
        ["NVIDIA GeForce RTX 4090, 24 GiB", /memory "24 GiB" is not a number of MiB/],
        ["NVIDIA GeForce RTX 4090, 24564 MiB", /not a number of MiB/],
        ["NVIDIA GeForce RTX 4090, -1", /not a number of MiB/],
        [", 24564", /no GPU name/],
        ["[N/A], 24564", /no GPU name/],
      ];
      for (const [text, pattern] of cases) {
        expect(() => parseNvidiaSmi(text), JSON.stringify(text)).to.throw(NvidiaSmiParseError, pattern);
      }
    });
  });

  describe("summarizeGpus", () => {
    it("rounds VRAM to GiB", () => {
      expect(summarizeGpus(parseNvidiaSmi(SMI.h100x8)), "H100").to.deep.equal({
        gpuModel: "NVIDIA H100 80GB HBM3",
        gpuCount: 8,
        vramGiB: 80,
        notes: [],
      });
      expect(summarizeGpus(parseNvidiaSmi(SMI.rtx4090)).vramGiB, "4090").to.equal(24);
    });

    it("keeps the most common model of a mixed machine, and says what it left out", () => {
      const s = summarizeGpus(parseNvidiaSmi(SMI.mixed));
      expect(s.gpuModel, "model").to.equal("NVIDIA GeForce RTX 4090");
      expect(s.gpuCount, "count").to.equal(2);
      expect(s.notes.join(" "), "note").to.match(/left out 1 GPU.*RTX 3090/);
    });

    it("refuses no GPU and an unknown memory", () => {
      expect(() => summarizeGpus([]), "none").to.throw(NvidiaSmiParseError, /no GPU/);
      expect(() => summarizeGpus(parseNvidiaSmi(SMI.na)), "[N/A]").to.throw(NvidiaSmiParseError, /N\/A/);
    });
  });

  describe("validateHardwareProfile", () => {
    it("accepts a profile with the required fields and comments", () => {
      expect(validateHardwareProfile({ $comment: "x", ...PROFILE }), "profile").to.deep.equal(PROFILE);
    });

    it("names every field that is wrong", () => {
      let error: HardwareProfileError | undefined;
      try {
        validateHardwareProfile({ gpuModel: "", gpuCount: 0, vramGiB: "24", ramGib: 64 }, "hw.json");
      } catch (e) {
        error = e as HardwareProfileError;
      }
      expect(error, "error").to.be.instanceOf(HardwareProfileError);
      const text = error!.problems.join("\n");
      expect(text, "gpuModel").to.match(/"gpuModel" must be a non-empty string/);
      expect(text, "gpuCount").to.match(/"gpuCount" is 0, not a whole number in 1\.\.65535/);
      expect(text, "vramGiB").to.match(/"vramGiB" is "24"/);
      expect(text, "unknown").to.match(/"ramGib" is not a field/);
      expect(error!.message, "source").to.match(/^hardware profile hw\.json/);
    });
  });

  describe("detectHardware", () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "kaisar-hw-"))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("uses nvidia-smi where it runs, with the exact query", async () => {
      const smi = fakeSmi({ stdout: SMI.h100x8 });
      const d = await detectHardware({ run: smi.run, diskPath: dir });
      expect(smi.calls, "query").to.deep.equal([{ file: "nvidia-smi", args: NVIDIA_SMI_ARGS }]);
      expect(d.hardware, "hardware").to.include({
        source: "nvidia-smi",
        gpuModel: "NVIDIA H100 80GB HBM3",
        gpuCount: 8,
        vramGiB: 80,
        bandwidthMbps: 0,
      });
      expect(d.hardware.cpuCores, "cpu from node:os").to.be.at.least(1);
      expect(d.hardware.ramGiB, "ram from node:os").to.equal(Math.floor(os.totalmem() / 2 ** 30));
      expect(d.hardware.diskGiB, "disk").to.be.a("number");
      expect(d.reason, "reason").to.equal("nvidia-smi lists 8 x NVIDIA H100 80GB HBM3");
    });

    it("takes the profile's extra figures alongside nvidia-smi, and notes a disagreement", async () => {
      const d = await detectHardware({
        run: fakeSmi({ stdout: SMI.h100x8 }).run,
        profile: { ...PROFILE, diskGiB: 4000 },
      });
      expect(d.hardware, "hardware").to.include({
        source: "nvidia-smi",
        gpuCount: 8,
        diskGiB: 4000,
        bandwidthMbps: 500,
      });
      expect(d.notes.join(" "), "note").to.match(/profile says 1 x NVIDIA GeForce RTX 4090/);
    });

    const fallbacks: [string, Parameters<typeof fakeSmi>[0], RegExp][] = [
      ["is not installed", { error: { code: "ENOENT" } }, /nvidia-smi not found/],
      ["times out", { error: { killed: true, signal: "SIGTERM" } }, /did not answer in time/],
      ["fails", { error: { message: "Command failed\nNVIDIA-SMI has failed: driver not loaded" } }, /failed/],
      ["prints garbage", { stdout: SMI.noDevices }, /line 1/],
      ["lists no GPU", { stdout: "" }, /no GPU/],
      ["does not know the memory", { stdout: SMI.na }, /N\/A/],
    ];
    for (const [what, result, reason] of fallbacks) {
      it(`falls back to the declared profile when nvidia-smi ${what}, and says so`, async () => {
        const d = await detectHardware({ run: fakeSmi(result).run, profile: PROFILE, diskPath: dir });
        expect(d.hardware, "hardware").to.include({ source: "profile", ...PROFILE });
        expect(d.reason, "reason")
          .to.match(reason)
          .and.to.match(/using the declared profile$/);
      });
    }

    it("reads the profile from its file, and fails naming it when it is bad", async () => {
      const file = path.join(dir, "hardware.json");
      writeFileSync(file, JSON.stringify({ ...PROFILE, cpuCores: 12, ramGiB: 48 }));
      const run = fakeSmi({ error: { code: "ENOENT" } }).run;
      const d = await detectHardware({ run, profile: file });
      expect(d.hardware, "hardware").to.include({ source: "profile", cpuCores: 12, ramGiB: 48 });
      expect(d.reason, "names the file").to.include(file);
      writeFileSync(file, "{ not json");
      let error: unknown;
      await detectHardware({ run, profile: file }).catch((e) => (error = e));
      expect(error, "bad file").to.be.instanceOf(HardwareProfileError);
      expect((error as Error).message, "names the file").to.include(file);
    });

    it("fails with what to do when there is neither nvidia-smi nor a profile", async () => {
      let error: unknown;
      await detectHardware({ run: fakeSmi({ error: { code: "ENOENT" } }).run }).catch((e) => (error = e));
      expect(error, "error").to.be.instanceOf(HardwareDetectionError);
      expect((error as Error).message, "fix").to.match(/nvidia-smi not found.*set "hardwareProfile"/);
    });

    it("runs a real program with the query and a timeout", async function () {
      if (process.platform === "win32") this.skip();
      const script = path.join(dir, "nvidia-smi");
      writeFileSync(
        script,
        `#!/bin/sh\n[ "$1 $2" = "${NVIDIA_SMI_ARGS.join(" ")}" ] || exit 9\nprintf '%s' '${SMI.rtx4090}'\n`,
      );
      chmodSync(script, 0o755);
      const d = await detectHardware({ nvidiaSmi: script, diskPath: dir });
      expect(d.hardware, "hardware").to.include({
        source: "nvidia-smi",
        gpuModel: "NVIDIA GeForce RTX 4090",
        gpuCount: 1,
      });

      const slow = path.join(dir, "slow-smi");
      writeFileSync(slow, "#!/bin/sh\nexec sleep 5\n");
      chmodSync(slow, 0o755);
      const t0 = Date.now();
      const fallback = await detectHardware({ nvidiaSmi: slow, timeoutMs: 200, profile: PROFILE });
      expect(fallback.reason, "timed out").to.match(/did not answer in time/);
      expect(Date.now() - t0, "quickly").to.be.below(2_000);

      const missing = await detectHardware({ nvidiaSmi: path.join(dir, "none"), profile: PROFILE });
      expect(missing.reason, "missing").to.match(/not found/);
    });
  });
});
