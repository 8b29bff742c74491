/**
 * Feedback for what the operator did: "Cancelled clip.mp4 on edge-01", or
 * why it did not work. Shown in one polite live region, so screen readers
 * announce them too; each goes away on its own after a while.
 */
import { createSignal } from 'solid-js';

export interface Notice {
  id: number;
  kind: 'ok' | 'error';
  text: string;
}

const SHOW_MS = { ok: 5_000, error: 12_000 };

export function createNotices() {
  const [list, setList] = createSignal<Notice[]>([]);
  let next = 1;
  const dismiss = (id: number) => setList((l) => l.filter((n) => n.id !== id));
  const show = (kind: Notice['kind'], text: string) => {
    const notice = { id: next++, kind, text };
    setList((l) => [...l.slice(-4), notice]);
    setTimeout(() => dismiss(notice.id), SHOW_MS[kind]);
  };
  return {
    list,
    ok: (text: string) => show('ok', text),
    error: (text: string) => show('error', text),
    dismiss,
  };
}

export type Notices = ReturnType<typeof createNotices>;
