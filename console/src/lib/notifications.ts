/**
 * Opt-in browser notifications for jobs that complete or fail. Off until
 * the operator turns them on (the browser then asks for permission); the
 * choice is remembered.
 */
import { createSignal } from 'solid-js';

const KEY = 'spool.notifications';

export type NotifyState = 'unsupported' | 'off' | 'on' | 'blocked';

export function createNotifier(storage: Storage = localStorage) {
  const supported = typeof Notification !== 'undefined';
  const initial = (): NotifyState => {
    if (!supported) return 'unsupported';
    if (Notification.permission === 'denied') return 'blocked';
    return storage.getItem(KEY) === 'on' && Notification.permission === 'granted' ? 'on' : 'off';
  };
  const [state, setState] = createSignal<NotifyState>(initial());
  return {
    state,
    async enable() {
      if (!supported) return;
      const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
      const next = permission === 'granted' ? 'on' : permission === 'denied' ? 'blocked' : 'off';
      storage.setItem(KEY, next === 'on' ? 'on' : 'off');
      setState(next);
    },
    disable() {
      storage.setItem(KEY, 'off');
      setState(supported ? 'off' : 'unsupported');
    },
    /** Shows one notification when they are on; `tag` keeps repeats of one job to one. */
    notify(title: string, body: string, tag: string) {
      if (state() !== 'on') return;
      new Notification(title, { body, tag });
    },
  };
}
