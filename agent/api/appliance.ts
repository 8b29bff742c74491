/**
 * What the API says about the box itself: identity, queue state and the
 * latest GPU and host samples. Built from the samplers' last readings; it
 * never calls nvidia-smi itself, so reading it costs nothing.
 */
import os from 'node:os';
import type { SpoolConfig } from '../config/config.schema.js';
import type { InboxStatus } from '../intake/watcher.js';
import type { GpuState } from '../samplers/gpu-snapshot.js';
import type { Machine } from '../scheduler/machine.js';

export interface ApplianceState {
  name: string;
  version: string;
  hostname: string;
  queuePaused: boolean;
  gpus: GpuState[];
  /** Why no GPU figures are shown (no nvidia-smi, failing or stale sample); null when they are live. */
  gpuError: string | null;
  gpuSampledAt: number | null;
  cpu: { cores: number; busyPercent: number | null };
  memory: { totalMb: number; availableMb: number };
  startedAt: number;
  inboxes: (InboxStatus & { profile: string; outbox: string })[];
}

export function createApplianceState(deps: {
  config: () => SpoolConfig;
  version: string;
  machine: Machine;
  queuePaused: () => boolean;
  inboxStatus: () => InboxStatus[];
  startedAt: number;
}): () => ApplianceState {
  return () => {
    const config = deps.config();
    const gpu = deps.machine.gpuSnapshot();
    const system = deps.machine.systemSnapshot();
    const status = new Map(deps.inboxStatus().map((s) => [s.path, s]));
    const live = gpu.ok && !gpu.stale;
    return {
      name: config.appliance.name,
      version: deps.version,
      hostname: os.hostname(),
      queuePaused: deps.queuePaused(),
      gpus: live ? gpu.gpus : [],
      gpuError: live ? null : (gpu.error ?? 'no GPU sample yet'),
      gpuSampledAt: gpu.at > 0 ? gpu.at : null,
      cpu: { cores: system.cores, busyPercent: system.cpuBusyShare === null ? null : Math.round(system.cpuBusyShare * 1000) / 10 },
      memory: { totalMb: system.memTotalMb, availableMb: system.memAvailableMb },
      startedAt: deps.startedAt,
      inboxes: config.inboxes.map((i) => ({ path: i.path, profile: i.profile, outbox: i.outbox, ok: status.get(i.path)?.ok ?? false, error: status.get(i.path)?.error ?? 'not watched yet' })),
    };
  };
}
