/** A job's finished files, each with a download button. */
import { createSignal, For, Show, type Component } from 'solid-js';
import { startDownload } from '../lib/download';
import { describeError } from '../lib/errors';
import { baseName, formatBytes } from '../lib/format';
import type { Endpoint } from '../lib/graphql-http';
import { useConsole } from '../state/console-context';

export const JobOutputs: Component<{ endpoint: Endpoint; jobId: string; outputs: { path: string; sizeBytes: number }[] }> = (props) => {
  const { notices } = useConsole();
  const [pending, setPending] = createSignal<string | null>(null);
  const download = async (path: string) => {
    setPending(path);
    try {
      await startDownload(props.endpoint, props.jobId, path);
    } catch (error) {
      notices.error(`Could not download ${baseName(path)}: ${describeError(error)}`);
    } finally {
      setPending(null);
    }
  };
  return (
    <Show when={props.outputs.length > 0} fallback={<p class="muted">No outputs yet.</p>}>
      <ul class="outputs">
        <For each={props.outputs}>
          {(output) => (
            <li>
              <button type="button" onClick={() => download(output.path)} disabled={pending() === output.path} aria-label={`Download ${baseName(output.path)}`}>
                ⭳ {baseName(output.path)}
              </button>
              <span class="muted">
                {' '}
                {formatBytes(output.sizeBytes)} · {output.path}
              </span>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
};
