/**
 * Drop files onto an inbox of an appliance (or pick them): each is uploaded
 * with its own progress bar, and the watcher on the appliance makes a job
 * of it once it is complete.
 */
import { createSignal, For, Index, Show, type Component } from 'solid-js';
import { describeError } from '../lib/errors';
import { formatBytes } from '../lib/format';
import type { Endpoint } from '../lib/graphql-http';
import type { Inbox } from '../lib/types';
import { uploadFile, uploadLimit } from '../lib/upload';

interface Transfer {
  id: number;
  name: string;
  sent: number;
  total: number;
  state: 'sending' | 'done' | 'failed';
  message: string;
}

export const UploadDrop: Component<{ endpoint: Endpoint; inboxes: Inbox[]; applianceName: string; disabled?: boolean }> = (props) => {
  const [inbox, setInbox] = createSignal<string>('');
  const [over, setOver] = createSignal(false);
  const [transfers, setTransfers] = createSignal<Transfer[]>([]);
  let nextId = 1;
  let picker!: HTMLInputElement;
  const chosen = () => inbox() || props.inboxes[0]?.path || '';
  const patch = (id: number, changes: Partial<Transfer>) => setTransfers((list) => list.map((t) => (t.id === id ? { ...t, ...changes } : t)));

  const send = async (files: File[]) => {
    const target = chosen();
    if (!target || files.length === 0) return;
    const limit = await uploadLimit(props.endpoint);
    for (const file of files) {
      const id = nextId++;
      setTransfers((list) => [...list.slice(-5), { id, name: file.name, sent: 0, total: file.size, state: 'sending', message: '' }]);
      if (limit !== null && file.size > limit) {
        patch(id, { state: 'failed', message: `larger than the ${formatBytes(limit)} this appliance takes` });
        continue;
      }
      uploadFile(props.endpoint, target, file, (sent, total) => patch(id, { sent, total }))
        .done.then((result) => patch(id, { state: 'done', sent: file.size, message: `in the inbox as ${result.name}` }))
        .catch((error) => patch(id, { state: 'failed', message: describeError(error) }));
    }
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    if (!props.disabled) void send([...(event.dataTransfer?.files ?? [])]);
  };

  return (
    <div class="upload">
      <label>
        Inbox
        <select value={chosen()} onChange={(e) => setInbox(e.currentTarget.value)} disabled={props.inboxes.length === 0}>
          <For each={props.inboxes}>
            {(i) => (
              <option value={i.path}>
                {i.profile} — {i.path}
              </option>
            )}
          </For>
        </select>
      </label>
      <div
        class="dropzone"
        classList={{ over: over(), disabled: !!props.disabled }}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <span>Drop files here to upload them to {props.applianceName}, or</span>
        <button type="button" onClick={() => picker.click()} disabled={props.disabled || !chosen()}>
          Choose files…
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-label={`Files to upload to ${props.applianceName}`}
          onChange={(e) => {
            void send([...(e.currentTarget.files ?? [])]);
            e.currentTarget.value = '';
          }}
        />
      </div>
      <Show when={transfers().length > 0}>
        <ul class="transfers" aria-label="Uploads">
          <Index each={transfers()}>
            {(t) => (
              <li class={`transfer transfer-${t().state}`} data-upload={t().name}>
                <span class="transfer-name">{t().name}</span>
                <progress max={t().total || 1} value={t().sent} aria-label={`Upload of ${t().name}`} />
                <span class="muted">{t().state === 'sending' ? `${formatBytes(t().sent)} of ${formatBytes(t().total)}` : t().state === 'done' ? `Uploaded, ${t().message}` : `Failed: ${t().message}`}</span>
              </li>
            )}
          </Index>
        </ul>
      </Show>
    </div>
  );
};
