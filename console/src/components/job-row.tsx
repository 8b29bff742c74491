/** One row of the job list. Each cell reads its own fields, so a progress tick updates the bar alone. */
import type { Component } from 'solid-js';
import { href } from '../lib/router';
import type { JobRow as Row } from '../state/job-store';
import { ProgressBar } from './progress-bar';
import { StatusBadge } from './status-badge';

export const JOB_ROW_HEIGHT = 44;

/** What the last column says: why it waits, why it failed, or nothing. */
export function rowNote(row: Pick<Row, 'status' | 'waitingReason' | 'error'>): string {
  if (row.status === 'PENDING' || row.status === 'PAUSED') return row.waitingReason ?? '';
  if (row.status === 'FAILED') return row.error ?? '';
  return '';
}

export const JobRowView: Component<{ row: Row; applianceName: string }> = (props) => (
  <div class="job-row" data-job-id={props.row.id} data-status={props.row.status}>
    <StatusBadge status={props.row.status} />
    <a class="job-file" href={href({ name: 'job', applianceId: props.row.applianceId, jobId: props.row.id })} title={props.row.inputPath}>
      {props.row.fileName}
    </a>
    <span class="job-appliance" title="Appliance">
      {props.applianceName}
    </span>
    <span class="job-profile" title="Profile">
      {props.row.profile}
    </span>
    <ProgressBar value={props.row.progress} etaSeconds={props.row.status === 'RUNNING' ? props.row.etaSeconds : null} label={`Progress of ${props.row.fileName}`} />
    <span class="job-priority" title="Priority (1 is the highest)">
      P{props.row.priority}
    </span>
    <span class="job-note muted" title={rowNote(props.row)}>
      {rowNote(props.row)}
    </span>
  </div>
);
