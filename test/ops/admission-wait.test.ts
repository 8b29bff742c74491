/**
 * When a job started waiting for admission, learned from its `job:updated`
 * events: a table of event sequences and the wait each attempt start reveals.
 */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../agent/jobs/job.js';
import { createWaitTracker } from '../../agent/ops/admission-wait.js';

/** A job as the events carry it; only the fields the tracker reads matter. */
function job(overrides: Partial<Job>): Job {
  return {
    id: 'J1',
    status: 'PENDING',
    profile: 'web',
    kind: 'transcode',
    category: 'cpu',
    priority: 5,
    inputPath: '/in/a.mp4',
    sourcePath: '/in/a.mp4',
    inboxPath: null,
    outbox: '/out',
    sizeBytes: 1,
    mtimeMs: 0,
    contentHash: null,
    attempts: 0,
    maxAttempts: 3,
    runAfter: null,
    waitingReason: null,
    pausedFrom: null,
    progress: null,
    fps: null,
    speed: null,
    etaSeconds: null,
    gpuIndex: null,
    encoder: null,
    errorKind: null,
    error: null,
    result: null,
    parentId: null,
    dependsOn: [],
    outputs: [],
    createdAt: 1000,
    startedAt: null,
    finishedAt: null,
    updatedAt: 1000,
    ...overrides,
  };
}

type Step = Partial<Job>;
const cases: { name: string; steps: Step[]; queuedAt: (number | null)[] }[] = [
  {
    name: 'a new job counts from its creation',
    steps: [{ status: 'PENDING' }, { status: 'RUNNING', attempts: 1, startedAt: 5000, updatedAt: 5000 }],
    queuedAt: [null, 1000],
  },
  {
    name: 'a scheduled job counts from its runAt',
    steps: [{ status: 'RUNNING', attempts: 1, runAfter: 4000, startedAt: 4500, updatedAt: 4500 }],
    queuedAt: [4000],
  },
  {
    name: 'a retry counts from the end of its backoff',
    steps: [
      { status: 'RUNNING', attempts: 1, startedAt: 2000, updatedAt: 2000 },
      { status: 'PENDING', attempts: 1, runAfter: 9000, updatedAt: 3000, error: 'gpu oom' },
      { status: 'RUNNING', attempts: 2, runAfter: 9000, startedAt: 9100, updatedAt: 9100, error: null },
    ],
    queuedAt: [1000, null, 9000],
  },
  {
    name: 'a running job paused and resumed is the same attempt',
    steps: [
      { status: 'RUNNING', attempts: 1, startedAt: 2000, updatedAt: 2000 },
      { status: 'PAUSED', pausedFrom: 'running', attempts: 1, startedAt: 2000, updatedAt: 3000 },
      { status: 'RUNNING', attempts: 1, startedAt: 2000, updatedAt: 8000 },
      { status: 'RUNNING', attempts: 1, startedAt: 2000, updatedAt: 8500, priority: 1 },
    ],
    queuedAt: [1000, null, null, null],
  },
  {
    name: 'a pending job paused by an operator counts from its release',
    steps: [
      { status: 'PAUSED', pausedFrom: 'pending', updatedAt: 2000 },
      { status: 'PENDING', updatedAt: 7000 },
      { status: 'PENDING', updatedAt: 7000, waitingReason: 'needs 6000 MiB VRAM' },
      { status: 'RUNNING', attempts: 1, startedAt: 7500, updatedAt: 7500 },
    ],
    queuedAt: [null, null, null, 7000],
  },
  {
    name: 'an operator retry of a failed job counts from the retry',
    steps: [
      // Failed before this agent started: the first event seen is the retry.
      { status: 'PENDING', attempts: 3, updatedAt: 50_000 },
      { status: 'PENDING', attempts: 3, updatedAt: 51_000, priority: 2 },
      { status: 'RUNNING', attempts: 4, startedAt: 52_000, updatedAt: 52_000 },
    ],
    queuedAt: [null, null, 50_000],
  },
];

describe('admission wait: when a job became runnable', () => {
  it.each(cases)('$name', ({ steps, queuedAt }) => {
    const tracker = createWaitTracker();
    const seen = steps.map((step) => tracker.updated(job(step))?.queuedAt ?? null);
    expect(seen).toEqual(queuedAt);
  });

  it('keeps no state for a backlog of new jobs, and forgets finished ones', () => {
    const tracker = createWaitTracker();
    for (let i = 0; i < 10_000; i++) tracker.updated(job({ id: `N${i}`, status: 'PENDING' }));
    expect(tracker.size()).toBe(0);
    tracker.updated(job({ id: 'R', status: 'RUNNING', attempts: 1, startedAt: 2000 }));
    tracker.updated(job({ id: 'P', status: 'PAUSED', pausedFrom: 'pending' }));
    tracker.updated(job({ id: 'Q', status: 'PENDING', attempts: 2, updatedAt: 3000 }));
    expect(tracker.size()).toBe(3);
    for (const id of ['R', 'P', 'Q']) tracker.finished(id);
    expect(tracker.size()).toBe(0);
  });
});
