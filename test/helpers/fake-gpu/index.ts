/**
 * A fake GPU box for tests: a fake `nvidia-smi` first on PATH, answering
 * from a state file the test changes while the agent runs, and a fake GPU
 * workload command that holds memory on it. The agent's real sampler runs
 * against it, so admission is tested end to end without a card.
 *
 *   const gpu = createFakeGpu({ gpus: [{ name: 'NVIDIA GeForce RTX 4080', memoryTotalMb: 16384 }],
 *                               foreign: [{ pid: 4242, gpu: 0, usedMemoryMb: 5120 }] });
 *   spawnAgent({ env: gpu.env }); … gpu.setState({ foreign: [] }); … gpu.cleanup();
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FakeGpuSpec {
  /** @default 'NVIDIA GeForce RTX 4080' */
  name?: string;
  /** @default 16376 */
  memoryTotalMb?: number;
  /** Used by no listed process (driver, display); counts in `used`. @default 0 */
  baseUsedMb?: number;
  /** Reserved by the driver: neither used nor free. @default 0 */
  reservedMb?: number;
  /** @default derived from the index */
  uuid?: string;
  /** @default 0 */
  encoderSessions?: number;
  /** @default 0 */
  utilizationPercent?: number;
  /** Utilisation then reads N/A, as on a real MIG card. @default false */
  migEnabled?: boolean;
}

/** A process that is not ours; its pid need not exist. */
export interface FakeForeignProcess {
  pid: number;
  /** GPU index or UUID. */
  gpu: number | string;
  usedMemoryMb: number | null;
  /** @default 'foreign' */
  name?: string;
  /** `C` (compute; listed by --query-compute-apps), `G` (graphics; XML only) or `C+G`. @default 'C' */
  type?: 'C' | 'G' | 'C+G';
}

export interface FakeGpuState {
  gpus: FakeGpuSpec[];
  foreign: FakeForeignProcess[];
  /** Every call answers after this long: longer than the sampler's time limit is a hang. */
  delayMs: number;
  /** `driver`: exit 9 with the driver error nvidia-smi prints; `garbage`: a cut-off answer plus junk, exit 0. */
  fail: 'driver' | 'garbage' | null;
  /** Absolute path of the `-q -x` capture to rewrite; its first `<gpu>` block is the pattern. */
  template?: string;
}

export interface Registration {
  pid: number;
  gpu: number | string;
  usedMemoryMb: number;
  name: string;
}

export interface FakeGpu {
  /** The folder holding only the fake nvidia-smi. */
  binDir: string;
  stateFile: string;
  /** process.env with binDir first on PATH and FAKE_NVIDIA_SMI_STATE set: give it to the agent. */
  env: NodeJS.ProcessEnv;
  state(): FakeGpuState;
  /** Replaces the given top-level keys of the state (written whole, atomically). */
  setState(partial: Partial<FakeGpuState>): void;
  /** Pids of live fake workloads that have registered their memory. */
  registeredPids(): number[];
  registrations(): Registration[];
  /** argv of a fake workload holding `mib` MiB after `rampMs`, alive `durationMs` in all. */
  workloadCommand(options: { mib: number; rampMs?: number; durationMs?: number; gpu?: number | string; name?: string }): string[];
  cleanup(): void;
}

interface StateModule {
  writeJsonAtomic(file: string, value: unknown): void;
  readState(file: string): FakeGpuState;
  liveRegistrations(file: string): Registration[];
}

/** This folder in the source tree, also when running compiled from dist/ (the .cjs files are not compiled). */
const HERE = (() => {
  const compiled = path.dirname(fileURLToPath(import.meta.url));
  const marker = `${path.sep}dist${path.sep}test${path.sep}`;
  const at = compiled.lastIndexOf(marker);
  return at < 0 ? compiled : path.join(compiled.slice(0, at), 'test', compiled.slice(at + marker.length));
})();

export const FAKE_NVIDIA_SMI_BIN = path.join(HERE, 'bin');
export const GPU_WORKLOAD = path.join(HERE, 'gpu-workload.cjs');
const stateModule = createRequire(import.meta.url)(path.join(HERE, 'state.cjs')) as StateModule;

export function createFakeGpu(initial: Partial<FakeGpuState> = {}): FakeGpu {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-fake-gpu-'));
  const stateFile = path.join(dir, 'state.json');
  let state: FakeGpuState = { gpus: [{}], foreign: [], delayMs: 0, fail: null, ...initial };
  stateModule.writeJsonAtomic(stateFile, state);
  return {
    binDir: FAKE_NVIDIA_SMI_BIN,
    stateFile,
    env: { ...process.env, PATH: `${FAKE_NVIDIA_SMI_BIN}${path.delimiter}${process.env['PATH'] ?? ''}`, FAKE_NVIDIA_SMI_STATE: stateFile },
    state: () => state,
    setState(partial) {
      state = { ...state, ...partial };
      stateModule.writeJsonAtomic(stateFile, state);
    },
    registeredPids: () => stateModule.liveRegistrations(stateFile).map((r) => r.pid),
    registrations: () => stateModule.liveRegistrations(stateFile),
    workloadCommand({ mib, rampMs = 100, durationMs = 1000, gpu, name }) {
      const argv = [process.execPath, GPU_WORKLOAD, '--state', stateFile, '--mib', String(mib), '--ramp-ms', String(rampMs), '--duration-ms', String(durationMs)];
      if (gpu !== undefined) argv.push('--gpu', String(gpu));
      if (name !== undefined) argv.push('--name', name);
      return argv;
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
