/**
 * Start-up reconciliation: make the files and the database agree again after
 * the agent died, in this order:
 * 1. settle plans left half-done (outputs and sources of finished jobs);
 * 2. attempts that were running: processes they left running killed,
 *    partial outputs removed, the job queued again (the interrupted attempt
 *    does not count against maxAttempts);
 * 3. work folders without a job row: a job is created from the claim record,
 *    or an empty folder is removed;
 * 4. staging folders in outboxes that belong to no running attempt.
 * Files still in inboxes are taken by the watcher's first scan afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { interruptOpenAttempts } from '../db/attempt.repository.js';
import { existingIds, listActiveRows, updateJob } from '../db/job.repository.js';
import { coerceError, errnoCode } from '../errors.js';
import { settleUnsettled, sourceIsClaimed, type JobDeps } from '../jobs/job-store.js';
import { CLAIM_FILE, INBOX_WORK_FOLDER, STAGING_FOLDER, stagingDir, workRoot } from '../jobs/paths.js';
import { killLeftoverProcesses } from '../runner/leftovers.js';
import { createJobFromClaim, type ClaimRecord } from './claim.js';

export interface ReconcileReport {
  settled: number;
  requeued: number;
  recovered: number;
  removed: number;
}

export async function reconcile(deps: JobDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { settled: 0, requeued: 0, recovered: 0, removed: 0 };
  const config = deps.config();

  report.settled = await settleUnsettled(deps);

  const now = deps.clock.now();
  const interrupted = await listActiveRows(deps.db);
  // Processes of those attempts may still run (own process groups outlive the agent): stop them before their folders are cleared.
  const leftovers = await killLeftoverProcesses(interrupted.flatMap((row) => [stagingDir(row.outbox, row.id), ...(sourceIsClaimed(config, row) ? [path.dirname(row.source_path)] : [])]));
  for (const p of leftovers) {
    if (p.survived) deps.logger.error(`cannot stop process ${p.pid} left by the previous agent run (${p.command.slice(0, 200)}); it may still write into a staging folder`);
    else deps.logger.warn(`stopped process ${p.pid} left running by the previous agent run: ${p.command.slice(0, 200)}`);
  }
  for (const row of interrupted) {
    await fs.promises.rm(stagingDir(row.outbox, row.id), { recursive: true, force: true });
    await interruptOpenAttempts(deps.db, row.id, now);
    const paused = row.status === 'PAUSED';
    await updateJob(deps.db, row.id, {
      status: paused ? 'PAUSED' : 'PENDING',
      paused_from: paused ? 'pending' : null,
      attempts: Math.max(0, row.attempts - 1),
      progress: null,
      fps: null,
      speed: null,
      eta_seconds: null,
      waiting_reason: paused ? 'paused by an operator (its process ended when the agent stopped)' : 'the agent stopped during the last attempt; runs again',
      updated_at: now,
    });
    deps.logger.info(`job ${row.id} was running when the agent stopped; queued again`, { job: row.id, inbox: row.inbox_path });
    report.requeued += 1;
  }

  const workFolders = [workRoot(config.dataDir), ...config.inboxes.map((i) => path.join(i.path, INBOX_WORK_FOLDER))];
  for (const root of workFolders) {
    const ids = await readdirOrEmpty(root);
    const known = new Set(await existingIds(deps.db, ids));
    for (const id of ids) {
      if (known.has(id)) continue;
      const folder = path.join(root, id);
      try {
        const recovered = await recoverFolder(deps, folder);
        if (recovered) report.recovered += 1;
        else report.removed += 1;
      } catch (error) {
        deps.logger.error(`cannot recover work folder ${folder}: ${coerceError(error).message}; left in place`);
      }
    }
  }

  const active = new Set((await listActiveRows(deps.db)).map((r) => r.id));
  for (const outbox of new Set(config.inboxes.map((i) => i.outbox))) {
    const root = path.join(outbox, STAGING_FOLDER);
    for (const id of await readdirOrEmpty(root)) {
      if (!active.has(id)) await fs.promises.rm(path.join(root, id), { recursive: true, force: true });
    }
  }
  if (report.settled + report.requeued + report.recovered + report.removed > 0) {
    deps.logger.info(`reconciled: ${report.settled} settled, ${report.requeued} re-queued, ${report.recovered} recovered from work folders, ${report.removed} empty work folders removed`);
  }
  return report;
}

/** A work folder with no job row: the claim got as far as the rename, or not. */
async function recoverFolder(deps: JobDeps, folder: string): Promise<boolean> {
  const names = (await readdirOrEmpty(folder)).filter((n) => n !== CLAIM_FILE);
  const record = await fs.promises
    .readFile(path.join(folder, CLAIM_FILE), 'utf8')
    .then((text) => JSON.parse(text) as ClaimRecord)
    .catch(() => null);
  if (names.length === 0) {
    await fs.promises.rm(folder, { recursive: true, force: true });
    return false;
  }
  const file = path.join(folder, names[0]!);
  if (!record || !deps.config().profiles[record.profile]) {
    throw new Error(`no usable claim record beside ${file}`);
  }
  const stat = await fs.promises.stat(file);
  await createJobFromClaim(deps, record, file, stat);
  deps.logger.info(`recovered ${record.inputPath} from its work folder as job ${record.jobId}`, { job: record.jobId, inbox: record.inboxPath });
  return true;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}
