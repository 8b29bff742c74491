/** Every attempt of a job: when, how it ended, its error, and what it used. */
import { For, Show, type Component } from 'solid-js';
import { formatDuration, formatTime } from '../lib/format';
import type { Attempt } from '../lib/types';

const num = (value: number | null, unit: string) => (value === null ? '–' : `${Math.round(value)} ${unit}`);

export const AttemptsTable: Component<{ attempts: Attempt[] }> = (props) => (
  <Show when={props.attempts.length > 0} fallback={<p class="muted">Not started yet.</p>}>
    <table class="attempts">
      <caption class="sr-only">Attempts</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Started</th>
          <th scope="col">Ran</th>
          <th scope="col">Outcome</th>
          <th scope="col">Peak VRAM</th>
          <th scope="col">CPU time</th>
          <th scope="col">Peak RSS</th>
          <th scope="col">Error</th>
        </tr>
      </thead>
      <tbody>
        <For each={props.attempts}>
          {(a) => (
            <tr>
              <td>{a.number}</td>
              <td>{formatTime(a.startedAt)}</td>
              <td>{a.finishedAt ? formatDuration((Date.parse(a.finishedAt) - Date.parse(a.startedAt)) / 1000) : 'running'}</td>
              <td>
                {a.outcome ?? 'running'}
                <Show when={a.encoder}> · {a.encoder}</Show>
                <Show when={a.gpuIndex !== null}> · GPU {a.gpuIndex}</Show>
              </td>
              <td>{num(a.peakVramMb, 'MiB')}</td>
              <td>{a.cpuSeconds === null ? '–' : formatDuration(a.cpuSeconds)}</td>
              <td>{num(a.peakRssMb, 'MiB')}</td>
              <td class="error-text">
                <Show when={a.errorKind}>
                  <strong>{a.errorKind}: </strong>
                </Show>
                {a.error ?? ''}
                <Show when={a.exitCode !== null || a.signal}>
                  <span class="muted"> (exit {a.signal ?? a.exitCode})</span>
                </Show>
              </td>
            </tr>
          )}
        </For>
      </tbody>
    </table>
  </Show>
);
