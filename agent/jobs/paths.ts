/** Where a job's files live at each stage. */
import path from 'node:path';

/** Hidden name of the claim record written into a work folder before the file is moved in. */
export const CLAIM_FILE = '.spool-claim.json';
/** Hidden folder in an outbox where attempts write; a dot name so downstream watchers skip it. */
export const STAGING_FOLDER = '.spool-tmp';
/** Fallback work area inside an inbox whose filesystem differs from the data directory's. */
export const INBOX_WORK_FOLDER = '.spool-work';
/** Folders beside the inbox's files that hold finished sources; never watched as input. */
export const RESULT_FOLDERS = ['done', 'failed', 'cancelled'] as const;

export function workRoot(dataDir: string): string {
  return path.join(dataDir, 'work');
}

export function workDir(dataDir: string, jobId: string): string {
  return path.join(workRoot(dataDir), jobId);
}

export function stagingDir(outbox: string, jobId: string): string {
  return path.join(outbox, STAGING_FOLDER, jobId);
}

export function resultDir(inboxPath: string, folder: (typeof RESULT_FOLDERS)[number]): string {
  return path.join(inboxPath, folder);
}

/** "My clip.final.mov" → "My clip.final". */
export function baseName(fileName: string): string {
  const ext = path.extname(fileName);
  return ext.length > 0 && ext.length < fileName.length ? fileName.slice(0, -ext.length) : fileName;
}
