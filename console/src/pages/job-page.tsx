/**
 * One job: live progress, why it waits, its attempts and what they used,
 * related jobs, outputs to download, the live log, and the actions.
 *
 * The details are read once and again whenever the job changes state (a
 * new attempt, new outputs); progress comes live from the job store, which
 * the fleet's jobUpdated subscription keeps current.
 */
import { createEffect, createResource, on, onCleanup, Show, type Component } from 'solid-js';
import { AttemptsTable } from '../components/attempts-table';
import { JobActions } from '../components/job-actions';
import { JobLinks } from '../components/job-links';
import { JobLog } from '../components/job-log';
import { JobOutputs } from '../components/job-outputs';
import { ProgressBar } from '../components/progress-bar';
import { StatusBadge } from '../components/status-badge';
import { formatBytes, formatDuration, formatTime } from '../lib/format';
import { JOB_DETAIL } from '../lib/operations';
import { href } from '../lib/router';
import type { JobDetail, JobSummary } from '../lib/types';
import { useConsole } from '../state/console-context';
import { jobKey } from '../state/job-store';
import type { FleetMember } from '../state/fleet-member';

export const JobPage: Component<{ applianceId: string; jobId: string }> = (props) => {
  const { fleet } = useConsole();
  const member = () => fleet.member(props.applianceId);
  return (
    <main class="job-page">
      <a href={href({ name: 'fleet' })} class="back">
        ← All jobs
      </a>
      <Show when={member()} keyed fallback={<p class="problem">This console has no appliance with the id {props.applianceId}. It may have been removed.</p>}>
        {(m) => <JobView member={m} jobId={props.jobId} />}
      </Show>
    </main>
  );
};

const JobView: Component<{ member: FleetMember; jobId: string }> = (props) => {
  const { jobs } = useConsole();
  const [detail, { refetch }] = createResource(
    () => props.jobId,
    async (id) => (await props.member.link.request<{ job: JobDetail | null }>(JOB_DETAIL, { id })).job,
  );
  const live = (): JobSummary | undefined => jobs.jobs[jobKey(props.member.id, props.jobId)];
  /** The live summary over the details: progress and state change often, the rest on state changes. */
  const job = (): (JobDetail & JobSummary) | null => {
    const d = detail.latest;
    return d ? { ...d, ...(live() ?? {}) } : null;
  };
  createEffect(on(() => live()?.status, () => detail.latest && void refetch(), { defer: true }));
  onCleanup(props.member.link.onConnected(() => void refetch()));
  const online = () => props.member.link.status() === 'online';

  return (
    <Show
      when={job()}
      fallback={
        <Show when={!detail.loading} fallback={<p class="muted">Loading…</p>}>
          <p class="problem">{detail.error ? `Could not load the job: ${String(detail.error.message ?? detail.error)}` : `${props.member.name()} has no job ${props.jobId}.`}</p>
        </Show>
      }
    >
      {(j) => (
        <article aria-labelledby="job-title">
          <header class="job-head">
            <h2 id="job-title">{j().fileName}</h2>
            <StatusBadge status={j().status} />
            <span class="muted">
              on {props.member.name()} · {j().profile} ({j().kind})
            </span>
          </header>
          <JobActions member={props.member} job={j()} online={online()} />
          <section class="panel" aria-label="Progress">
            <ProgressBar value={j().progress} etaSeconds={j().status === 'RUNNING' ? j().etaSeconds : null} label={`Progress of ${j().fileName}`} />
            <p class="figures">
              <span>{j().fps != null ? `${j().fps!.toFixed(1)} fps` : '– fps'}</span>
              <span>{j().speed != null ? `${j().speed!.toFixed(2)}× speed` : '– speed'}</span>
              <span>ETA {j().etaSeconds != null && j().status === 'RUNNING' ? formatDuration(j().etaSeconds!) : '–'}</span>
            </p>
            <Show when={j().waitingReason}>
              <p class="waiting" data-testid="waiting-reason">
                Waiting: {j().waitingReason}
              </p>
            </Show>
            <Show when={j().error}>
              <p class="problem" data-testid="job-error">
                {j().errorKind ? `${j().errorKind}: ` : ''}
                {j().error}
              </p>
            </Show>
          </section>
          <section class="panel">
            <h3>Details</h3>
            <dl class="details">
              <dt>Input</dt>
              <dd>{j().inputPath}</dd>
              <dt>Source now</dt>
              <dd>{j().sourcePath}</dd>
              <dt>Size</dt>
              <dd>{formatBytes(j().sizeBytes)}</dd>
              <dt>Category</dt>
              <dd>{j().category}{j().gpuIndex !== null ? ` · GPU ${j().gpuIndex}` : ''}{j().encoder ? ` · ${j().encoder}` : ''}</dd>
              <dt>Attempts</dt>
              <dd>
                {j().attempts} of {j().maxAttempts}
              </dd>
              <dt>Created</dt>
              <dd>{formatTime(j().createdAt)}</dd>
              <dt>Started</dt>
              <dd>{formatTime(j().startedAt)}</dd>
              <dt>Finished</dt>
              <dd>{formatTime(j().finishedAt)}</dd>
              <Show when={j().runAt}>
                <dt>Not before</dt>
                <dd>{formatTime(j().runAt)}</dd>
              </Show>
              <dt>Job id</dt>
              <dd>
                <code>{j().id}</code>
              </dd>
            </dl>
          </section>
          <section class="panel">
            <h3>Attempts</h3>
            <AttemptsTable attempts={j().attemptHistory} />
          </section>
          <section class="panel related">
            <JobLinks title="Depends on" jobs={[...(j().parent ? [j().parent!] : []), ...j().dependsOn.filter((d) => d.id !== j().parent?.id)]} applianceId={props.member.id} empty="Nothing: it starts on its own." />
            <JobLinks title="Follow-on jobs" jobs={j().followOns} applianceId={props.member.id} empty="None." />
          </section>
          <section class="panel">
            <h3>Outputs</h3>
            <JobOutputs endpoint={props.member.link.endpoint} jobId={j().id} outputs={j().outputs} />
          </section>
          <section class="panel">
            <h3>Log</h3>
            <JobLog member={props.member} jobId={props.jobId} fileName={j().fileName} />
          </section>
        </article>
      )}
    </Show>
  );
};
