/**
 * The buttons that steer one job. Only the actions that apply to its state
 * are enabled (the appliance would refuse the others with INVALID_STATE);
 * while one runs, its button says so and the others wait.
 */
import { createSignal, type Component } from 'solid-js';
import type { JobStatus, JobSummary } from '../lib/types';
import { changePriority, runJobAction, type JobAction } from '../state/actions';
import { useConsole } from '../state/console-context';
import type { FleetMember } from '../state/fleet-member';

/** Which action applies in which state (CONTRACT.md). */
export const APPLIES: Record<JobAction, readonly JobStatus[]> = {
  cancel: ['PENDING', 'PAUSED', 'RUNNING'],
  retry: ['FAILED', 'CANCELLED'],
  pause: ['PENDING', 'RUNNING'],
  resume: ['PAUSED'],
};

const LABEL: Record<JobAction, [string, string]> = {
  cancel: ['Cancel', 'Cancelling…'],
  retry: ['Retry', 'Retrying…'],
  pause: ['Pause', 'Pausing…'],
  resume: ['Resume', 'Resuming…'],
};

const FINAL: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export const JobActions: Component<{ member: FleetMember; job: JobSummary; online: boolean }> = (props) => {
  const services = useConsole();
  const [running, setRunning] = createSignal<string | null>(null);
  const run = async (name: string, work: () => Promise<unknown>) => {
    setRunning(name);
    await work();
    setRunning(null);
  };
  const disabled = (name: string, applies: boolean) => !props.online || !applies || (running() !== null && running() !== name) || running() === name;

  const actionButton = (action: JobAction) => (
    <button
      type="button"
      class={action === 'cancel' ? 'danger' : ''}
      disabled={disabled(action, APPLIES[action].includes(props.job.status))}
      onClick={() => run(action, () => runJobAction(services, props.member, props.job, action))}
    >
      {LABEL[action][running() === action ? 1 : 0]}
    </button>
  );

  return (
    <div class="actions" role="group" aria-label={`Actions on ${props.job.fileName}`}>
      {actionButton('pause')}
      {actionButton('resume')}
      {actionButton('cancel')}
      {actionButton('retry')}
      <span class="priority-control" role="group" aria-label="Priority">
        <button
          type="button"
          aria-label="Raise priority"
          title="Raise priority (towards 1)"
          disabled={disabled('up', props.job.priority > 1 && !FINAL.includes(props.job.status))}
          onClick={() => run('up', () => changePriority(services, props.member, props.job, 'up'))}
        >
          ▲
        </button>
        <span aria-live="polite">Priority {props.job.priority}</span>
        <button
          type="button"
          aria-label="Lower priority"
          title="Lower priority (towards 10)"
          disabled={disabled('down', props.job.priority < 10 && !FINAL.includes(props.job.status))}
          onClick={() => run('down', () => changePriority(services, props.member, props.job, 'down'))}
        >
          ▼
        </button>
      </span>
    </div>
  );
};
