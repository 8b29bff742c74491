/** Jobs related to this one (dependencies, the parent, follow-ons), each a link to its page. */
import { For, Show, type Component } from 'solid-js';
import { href } from '../lib/router';
import type { JobRef } from '../lib/types';
import { StatusBadge } from './status-badge';

export const JobLinks: Component<{ title: string; jobs: JobRef[]; applianceId: string; empty: string }> = (props) => (
  <div class="job-links">
    <h3>{props.title}</h3>
    <Show when={props.jobs.length > 0} fallback={<p class="muted">{props.empty}</p>}>
      <ul>
        <For each={props.jobs}>
          {(job) => (
            <li>
              <StatusBadge status={job.status} /> <a href={href({ name: 'job', applianceId: props.applianceId, jobId: job.id })}>{job.fileName}</a>
              <span class="muted"> · {job.profile}</span>
            </li>
          )}
        </For>
      </ul>
    </Show>
  </div>
);
