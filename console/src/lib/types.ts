/** What the console reads from an appliance's GraphQL API (the shapes of operations.ts). */

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The fields a row of the job list needs; every jobUpdated event carries them. */
export interface JobSummary {
  id: string;
  status: JobStatus;
  profile: string;
  kind: string;
  priority: number;
  progress: number | null;
  etaSeconds: number | null;
  fps: number | null;
  speed: number | null;
  waitingReason: string | null;
  fileName: string;
  inputPath: string;
  attempts: number;
  maxAttempts: number;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface JobRef {
  id: string;
  fileName: string;
  status: JobStatus;
  profile: string;
}

export interface Attempt {
  number: number;
  startedAt: string;
  finishedAt: string | null;
  outcome: string | null;
  exitCode: number | null;
  signal: string | null;
  errorKind: string | null;
  error: string | null;
  encoder: string | null;
  gpuIndex: number | null;
  peakRssMb: number | null;
  cpuSeconds: number | null;
  peakVramMb: number | null;
}

export interface LogLine {
  seq: number | null;
  at: string;
  stream: string;
  line: string;
}

export interface JobDetail extends JobSummary {
  category: 'CPU' | 'GPU_ENCODE' | 'GPU_AI';
  sourcePath: string;
  sizeBytes: number;
  errorKind: string | null;
  gpuIndex: number | null;
  encoder: string | null;
  runAt: string | null;
  startedAt: string | null;
  outputs: { path: string; sizeBytes: number }[];
  attemptHistory: Attempt[];
  dependsOn: JobRef[];
  followOns: JobRef[];
  parent: JobRef | null;
}

export interface Gpu {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMb: number;
  memoryUsedMb: number;
  memoryFreeMb: number;
  utilizationPercent: number | null;
  encoderSessions: number | null;
}

export interface Inbox {
  path: string;
  profile: string;
  ok: boolean;
  error: string | null;
}

export interface ApplianceState {
  name: string;
  version: string;
  hostname: string;
  queuePaused: boolean;
  gpus: Gpu[];
  gpuError: string | null;
  cpu: { cores: number; busyPercent: number | null };
  memory: { totalMb: number; availableMb: number };
  inboxes: Inbox[];
}

export interface QueueStats {
  pending: number;
  running: number;
  paused: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface Profile {
  name: string;
  kind: string;
}
