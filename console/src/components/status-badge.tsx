/** A job's status in colour, with an icon and the word (colour alone would not do for everyone). */
import type { Component } from 'solid-js';
import type { JobStatus } from '../lib/types';

const ICON: Record<JobStatus, string> = { PENDING: '◷', RUNNING: '▶', PAUSED: '⏸', COMPLETED: '✓', FAILED: '✕', CANCELLED: '⊘' };
const WORD: Record<JobStatus, string> = { PENDING: 'Pending', RUNNING: 'Running', PAUSED: 'Paused', COMPLETED: 'Completed', FAILED: 'Failed', CANCELLED: 'Cancelled' };

export const statusWord = (status: JobStatus) => WORD[status];

export const StatusBadge: Component<{ status: JobStatus }> = (props) => (
  <span class={`status status-${props.status.toLowerCase()}`} data-status={props.status}>
    <span aria-hidden="true">{ICON[props.status]}</span> {WORD[props.status]}
  </span>
);
