/** Data shaped like the API's answers, for the console's component tests. */
import type { ApplianceState, JobSummary } from '../../console/src/lib/types';

export function jobSummary(overrides: Partial<JobSummary> = {}): JobSummary {
  return {
    id: '01JOB',
    status: 'PENDING',
    profile: 'web',
    kind: 'transcode',
    priority: 5,
    progress: null,
    etaSeconds: null,
    fps: null,
    speed: null,
    waitingReason: null,
    fileName: 'clip.mp4',
    inputPath: '/srv/inbox/web/clip.mp4',
    attempts: 0,
    maxAttempts: 3,
    error: null,
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:00.000Z',
    finishedAt: null,
    ...overrides,
  };
}

export function applianceState(overrides: Partial<ApplianceState> = {}): ApplianceState {
  return {
    name: 'edge-01',
    version: '0.1.0',
    hostname: 'edge-01.lan',
    queuePaused: false,
    gpus: [{ index: 0, uuid: 'GPU-1', name: 'NVIDIA RTX 4000', memoryTotalMb: 20000, memoryUsedMb: 5000, memoryFreeMb: 15000, utilizationPercent: 40, encoderSessions: 1 }],
    gpuError: null,
    cpu: { cores: 16, busyPercent: 25 },
    memory: { totalMb: 64000, availableMb: 48000 },
    inboxes: [{ path: '/srv/inbox/web', profile: 'web', ok: true, error: null }],
    ...overrides,
  };
}
