/**
 * The machine as admission sees it: the latest GPU and host samples and the
 * free space of every outbox filesystem, turned into the plain `Samples` the
 * decision function takes. Built once in the composition root from the real
 * samplers (tests run the same code against a fake nvidia-smi on PATH).
 */
import type { SpoolConfig } from '../config/config.schema.js';
import type { GpuSampler } from '../samplers/gpu-sampler.js';
import type { GpuSnapshot } from '../samplers/gpu-snapshot.js';
import { freeDiskMb, type SystemSampler, type SystemSnapshot } from '../samplers/system-sampler.js';
import type { Samples } from './admission.js';
import type { Logger } from '../logger.js';
import { placeProblem } from '../runner/environment-fault.js';

/** How often outbox free space is read (statfs is cheap, but not per pass). */
const DISK_EVERY_MS = 2000;

export interface Machine {
  samples(): Samples;
  /** The filesystem key of an outbox in `Samples.disks`, once known. */
  outboxDevice(outbox: string): string | null;
  /** VRAM the latest GPU sample shows these processes using. */
  observedVramMb(pids: readonly number[]): number;
  gpuSnapshot(): GpuSnapshot;
  /** The latest host sample (CPU busy share, memory), for display. */
  systemSnapshot(): SystemSnapshot;
  /** Whether GPU work is queued or running (fast GPU sampling) or not (slow). */
  setGpuActive(active: boolean): void;
  /** Whether someone watches the GPU live (a console subscribed): fast sampling too. */
  setGpuWatched(watched: boolean): void;
  /**
   * Reads free space again if the last look is older than DISK_EVERY_MS, and
   * tries each held outbox once more (see holdOutbox); `now` on the monotonic clock.
   */
  refreshDisks(now: number): Promise<void>;
  /**
   * A job could not write to `outbox` (read-only, no permission, over quota,
   * full, missing): admission sends it no more work until a test write there
   * works again. `problem` is the sentence jobs show while they wait.
   */
  holdOutbox(outbox: string, problem: string): void;
  /** Why no work goes to `outbox` now, or null. */
  outboxProblem(outbox: string): string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createMachine(deps: { config: () => SpoolConfig; gpu: GpuSampler; system: SystemSampler; ffmpegHasNvenc: boolean; logger: Logger }): Machine {
  const devices = new Map<string, string>();
  const held = new Map<string, string>();
  let disks: Record<string, { freeMb: number; path: string }> = {};
  let disksAt = Number.NEGATIVE_INFINITY;
  let gpuWork = false;
  let gpuWatched = false;

  const sessionLimit = (name: string, nvenc: boolean): number => {
    const configured = deps.config().resources.gpu.nvencSessions;
    if (!nvenc) return 0;
    if (configured !== 'auto') return configured;
    // Consumer GeForce drivers cap concurrent NVENC sessions per system (8 in current drivers).
    return /geforce|titan/i.test(name) ? 8 : 32;
  };

  return {
    samples() {
      const snapshot = deps.gpu.latest();
      const system = deps.system.latest();
      const gpuProblem = snapshot.ok && !snapshot.stale ? (snapshot.gpus.length === 0 ? 'nvidia-smi lists no GPU' : null) : `GPU sample not usable (${snapshot.error ?? 'stale'})`;
      return {
        gpuAt: snapshot.takenAt,
        gpuProblem: gpuProblem === null ? null : snapshot.error?.includes('not found') ? 'nvidia-smi not found' : gpuProblem,
        gpus:
          gpuProblem === null
            ? snapshot.gpus.map((g) => {
                const nvenc = g.nvenc && deps.ffmpegHasNvenc;
                return {
                  index: g.index,
                  name: g.name,
                  nvenc,
                  memoryFreeMb: g.memoryFreeMb,
                  memoryTotalMb: g.memoryTotalMb,
                  encoderSessions: g.encoderSessions,
                  nvencSessionLimit: sessionLimit(g.name, nvenc),
                };
              })
            : [],
        system:
          system.error === null && system.cpuBusyShare !== null
            ? { at: system.takenAt, cores: system.cores, cpuBusyPercent: system.cpuBusyShare * 100, memAvailableMb: system.memAvailableMb }
            : null,
        disks,
      };
    },
    outboxDevice: (outbox) => devices.get(outbox) ?? null,
    observedVramMb(pids) {
      if (pids.length === 0) return 0;
      const wanted = new Set(pids);
      let total = 0;
      for (const gpu of deps.gpu.latest().gpus) {
        for (const p of gpu.processes) if (wanted.has(p.pid)) total += p.usedMemoryMb ?? 0;
      }
      return total;
    },
    gpuSnapshot: () => deps.gpu.latest(),
    systemSnapshot: () => deps.system.latest(),
    setGpuActive(active) {
      gpuWork = active;
      deps.gpu.setActive(gpuWork || gpuWatched);
    },
    setGpuWatched(watched) {
      gpuWatched = watched;
      deps.gpu.setActive(gpuWork || gpuWatched);
    },
    async refreshDisks(now) {
      if (now - disksAt < DISK_EVERY_MS) return;
      disksAt = now;
      const outboxes = [...new Set(deps.config().inboxes.map((i) => i.outbox))];
      const next: Record<string, { freeMb: number; path: string }> = {};
      for (const d of await freeDiskMb(outboxes)) {
        if (d.device === null || d.freeMb === null) continue;
        devices.set(d.path, String(d.device));
        next[String(d.device)] ??= { freeMb: d.freeMb, path: d.path };
      }
      disks = next;
      for (const [outbox, was] of [...held]) {
        const problem = await placeProblem({ label: 'outbox', path: outbox });
        if (problem === null) {
          held.delete(outbox);
          deps.logger.info(`outbox ${outbox} can be written again (was: ${was}); its jobs run again`);
        } else {
          held.set(outbox, problem);
        }
      }
    },
    holdOutbox(outbox, problem) {
      if (!held.has(outbox)) deps.logger.warn(`${problem}: no more work goes there until a test write works (tried every ${DISK_EVERY_MS / 1000} s)`);
      held.set(outbox, problem);
    },
    outboxProblem: (outbox) => held.get(outbox) ?? null,
    async start() {
      deps.system.start();
      deps.gpu.start();
      await Promise.all([deps.system.sampleNow(), deps.gpu.sampleNow(), this.refreshDisks(performance.now())]);
    },
    async stop() {
      await Promise.all([deps.gpu.stop(), deps.system.stop()]);
    },
  };
}
