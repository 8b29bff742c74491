/** A progress bar with its figure; a job that has not started (null) shows an empty track. */
import { Show, type Component } from 'solid-js';
import { formatDuration } from '../lib/format';

export const ProgressBar: Component<{ value: number | null; etaSeconds?: number | null; label: string }> = (props) => {
  const percent = () => (props.value === null ? 0 : Math.max(0, Math.min(100, props.value)));
  return (
    <div class="progress">
      <div class="progress-track" role="progressbar" aria-label={props.label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={props.value === null ? undefined : Math.round(percent())}>
        <div class="progress-fill" style={{ width: `${percent()}%` }} />
      </div>
      <span class="progress-text">
        {props.value === null ? '–' : `${Math.floor(percent())}%`}
        <Show when={props.etaSeconds != null}>
          <span class="muted"> · {formatDuration(props.etaSeconds!)} left</span>
        </Show>
      </span>
    </div>
  );
};
