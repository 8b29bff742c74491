/**
 * The database as Kysely sees it: one interface per table, columns typed as
 * better-sqlite3 returns them (integers for times in epoch milliseconds and
 * for booleans, text for JSON).
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface JobTable {
  id: string;
  profile: string;
  kind: string;
  category: string;
  status: string;
  priority: number;
  input_path: string;
  source_path: string;
  inbox_path: string | null;
  outbox: string;
  file_name: string;
  size_bytes: number;
  mtime_ms: number;
  content_hash: string | null;
  attempts: Generated<number>;
  max_attempts: number;
  run_after: number | null;
  waiting_reason: string | null;
  paused_from: string | null;
  progress: number | null;
  fps: number | null;
  speed: number | null;
  eta_seconds: number | null;
  gpu_index: number | null;
  encoder: string | null;
  error_kind: string | null;
  error: string | null;
  result_json: string | null;
  parent_id: string | null;
  /** JSON list of planned moves still to carry out after a final state; null once settled. */
  settle_plan: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface JobDependencyTable {
  job_id: string;
  depends_on_id: string;
}

export interface JobOutputTable {
  job_id: string;
  seq: number;
  path: string;
  size_bytes: number;
}

export interface JobAttemptTable {
  job_id: string;
  number: number;
  started_at: number;
  finished_at: number | null;
  outcome: string | null;
  exit_code: number | null;
  signal: string | null;
  error_kind: string | null;
  error: string | null;
  encoder: string | null;
  gpu_index: number | null;
  peak_rss_bytes: number | null;
  cpu_seconds: number | null;
}

export interface JobLogTable {
  id: Generated<number>;
  job_id: string;
  at: number;
  stream: string;
  line: string;
}

export interface ProfileUsageTable {
  id: Generated<number>;
  profile: string;
  job_id: string;
  recorded_at: number;
  wall_seconds: number;
  cpu_seconds: number | null;
  peak_rss_bytes: number | null;
  peak_vram_mb: number | null;
  input_bytes: number;
  output_bytes: number;
  media_seconds: number | null;
  encoder: string | null;
  /** `completed`, or `failed` for an attempt that died: it teaches only the VRAM it was seen holding (2026-11-25f). */
  outcome: Generated<'completed' | 'failed'>;
}

export interface AgentStateTable {
  key: string;
  value: string;
}

/** Jobs per status, kept by triggers (migration 2026-11-25d). */
export interface JobStatusCountTable {
  status: string;
  n: number;
}

export interface Database {
  jobs: JobTable;
  job_dependencies: JobDependencyTable;
  job_outputs: JobOutputTable;
  job_attempts: JobAttemptTable;
  job_logs: JobLogTable;
  profile_usage: ProfileUsageTable;
  agent_state: AgentStateTable;
  job_status_counts: JobStatusCountTable;
}

export type JobRow = Selectable<JobTable>;
export type NewJobRow = Insertable<JobTable>;
export type JobRowUpdate = Updateable<JobTable>;
export type AttemptRow = Selectable<JobAttemptTable>;
export type LogRow = Selectable<JobLogTable>;
export type UsageRow = Selectable<ProfileUsageTable>;
