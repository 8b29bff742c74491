/** The feedback area: one polite live region for successes, an assertive one for errors. */
import { For, type Component } from 'solid-js';
import type { Notices } from '../state/notices';

export const NoticesView: Component<{ notices: Notices }> = (props) => {
  const of = (kind: 'ok' | 'error') => props.notices.list().filter((n) => n.kind === kind);
  return (
    <div class="notices">
      <For each={['ok', 'error'] as const}>
        {(kind) => (
          <div role={kind === 'error' ? 'alert' : 'status'} aria-live={kind === 'error' ? 'assertive' : 'polite'} class="notice-stack">
            <For each={of(kind)}>
              {(notice) => (
                <div class={`notice notice-${notice.kind}`}>
                  <span>{notice.text}</span>
                  <button type="button" class="ghost" aria-label="Dismiss" onClick={() => props.notices.dismiss(notice.id)}>
                    ×
                  </button>
                </div>
              )}
            </For>
          </div>
        )}
      </For>
    </div>
  );
};
