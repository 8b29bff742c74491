/**
 * The operator's actions on jobs and queues, each with feedback: the
 * appliance's answer goes into the store at once (the list and the job page
 * change without waiting for the subscription), and a notice says what
 * happened or, in words, why not.
 */
import { describeError } from '../lib/errors';
import { JOB_ACTIONS, PAUSE_QUEUE, RESUME_QUEUE, SET_PRIORITY } from '../lib/operations';
import type { ApplianceState, JobSummary } from '../lib/types';
import type { FleetMember } from './fleet-member';
import type { JobStore } from './job-store';
import type { Notices } from './notices';

export type JobAction = keyof typeof JOB_ACTIONS;

const FIELD: Record<JobAction, string> = { cancel: 'cancelJob', retry: 'retryJob', pause: 'pauseJob', resume: 'resumeJob' };
const DONE: Record<JobAction, string> = { cancel: 'Cancelled', retry: 'Queued again', pause: 'Paused', resume: 'Resumed' };

interface Deps {
  jobs: JobStore;
  notices: Notices;
}

/** Runs a job action; resolves with the job's new state, or null when it failed (the notice says why). */
export async function runJobAction(deps: Deps, member: FleetMember, job: Pick<JobSummary, 'id' | 'fileName'>, action: JobAction): Promise<JobSummary | null> {
  try {
    const data = await member.link.request<Record<string, JobSummary>>(JOB_ACTIONS[action], { id: job.id });
    const updated = data[FIELD[action]]!;
    deps.jobs.update(member.id, updated, 'answer');
    deps.notices.ok(`${DONE[action]}: ${job.fileName} on ${member.name()}`);
    return updated;
  } catch (error) {
    deps.notices.error(`Could not ${action} ${job.fileName} on ${member.name()}: ${describeError(error)}`);
    return null;
  }
}

/** Priority 1 is the highest: "up" lowers the number. */
export async function changePriority(deps: Deps, member: FleetMember, job: Pick<JobSummary, 'id' | 'fileName' | 'priority'>, direction: 'up' | 'down'): Promise<JobSummary | null> {
  const priority = job.priority + (direction === 'up' ? -1 : 1);
  try {
    const data = await member.link.request<{ setJobPriority: JobSummary }>(SET_PRIORITY, { id: job.id, priority });
    deps.jobs.update(member.id, data.setJobPriority, 'answer');
    deps.notices.ok(`Priority of ${job.fileName} is now ${data.setJobPriority.priority}`);
    return data.setJobPriority;
  } catch (error) {
    deps.notices.error(`Could not change the priority of ${job.fileName}: ${describeError(error)}`);
    return null;
  }
}

export async function setQueuePaused(deps: Pick<Deps, 'notices'>, member: FleetMember, paused: boolean): Promise<boolean> {
  try {
    const data = await member.link.request<{ pauseQueue?: ApplianceState; resumeQueue?: ApplianceState }>(paused ? PAUSE_QUEUE : RESUME_QUEUE);
    member.setState((data.pauseQueue ?? data.resumeQueue)!);
    deps.notices.ok(paused ? `Queue of ${member.name()} paused: running jobs finish, nothing new starts` : `Queue of ${member.name()} resumed`);
    return true;
  } catch (error) {
    deps.notices.error(`Could not ${paused ? 'pause' : 'resume'} the queue of ${member.name()}: ${describeError(error)}`);
    return false;
  }
}
