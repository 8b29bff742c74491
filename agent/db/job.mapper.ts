/** The one place a job row becomes a domain Job. */
import type { Category, Kind } from '../config/config.schema.js';
import type { FailureKind, Job, JobOutput, JobStatus } from '../jobs/job.js';
import type { JobRow } from './tables.js';

export function rowToJob(row: JobRow, dependsOn: string[] = [], outputs: JobOutput[] = []): Job {
  return {
    id: row.id,
    status: row.status as JobStatus,
    profile: row.profile,
    kind: row.kind as Kind,
    category: row.category as Category,
    priority: row.priority,
    inputPath: row.input_path,
    sourcePath: row.source_path,
    inboxPath: row.inbox_path,
    outbox: row.outbox,
    sizeBytes: row.size_bytes,
    mtimeMs: row.mtime_ms,
    contentHash: row.content_hash,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: row.run_after,
    waitingReason: row.waiting_reason,
    pausedFrom: row.paused_from as Job['pausedFrom'],
    progress: row.status === 'COMPLETED' ? 100 : row.progress,
    fps: row.fps,
    speed: row.speed,
    etaSeconds: row.eta_seconds,
    gpuIndex: row.gpu_index,
    encoder: row.encoder,
    errorKind: row.error_kind as FailureKind | null,
    error: row.error,
    result: row.result_json === null ? null : (JSON.parse(row.result_json) as unknown),
    parentId: row.parent_id,
    dependsOn,
    outputs,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}
