/** How many jobs an appliance has in each state. */
import { For, type Component } from 'solid-js';
import type { JobStatus, QueueStats } from '../lib/types';
import { statusWord } from './status-badge';

const ORDER: [keyof QueueStats, JobStatus][] = [
  ['running', 'RUNNING'],
  ['pending', 'PENDING'],
  ['paused', 'PAUSED'],
  ['failed', 'FAILED'],
  ['completed', 'COMPLETED'],
  ['cancelled', 'CANCELLED'],
];

export const QueueCounts: Component<{ stats: QueueStats | null }> = (props) => (
  <dl class="counts" aria-label="Jobs by status">
    <For each={ORDER}>
      {([field, status]) => (
        <div class={`count status-${status.toLowerCase()}`} data-count={field}>
          <dt>{statusWord(status)}</dt>
          <dd>{props.stats ? props.stats[field].toLocaleString() : '–'}</dd>
        </div>
      )}
    </For>
  </dl>
);
