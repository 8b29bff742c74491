/** Opt-in notifications and the theme switch, as the browser sees them. */
import { createRoot } from 'solid-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createNotifier } from '../../console/src/lib/notifications';
import { createTheme } from '../../console/src/lib/theme';

class FakeNotification {
  static permission: NotificationPermission = 'default';
  static shown: { title: string; body?: string; tag?: string }[] = [];
  static requestPermission = vi.fn(async () => (FakeNotification.permission = 'granted'));
  constructor(title: string, options: { body?: string; tag?: string }) {
    FakeNotification.shown.push({ title, ...options });
  }
}

describe('notifications', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('are off until turned on; turning them on asks the browser, and the choice is remembered', async () => {
    vi.stubGlobal('Notification', FakeNotification);
    const notifier = createRoot(() => createNotifier(localStorage));
    notifier.notify('Completed: a.mov', 'web on edge-01', 'k1');
    expect(FakeNotification.shown).toEqual([]);
    await notifier.enable();
    expect(FakeNotification.requestPermission).toHaveBeenCalledOnce();
    expect(notifier.state()).toBe('on');
    notifier.notify('Completed: a.mov', 'web on edge-01', 'k1');
    expect(FakeNotification.shown).toEqual([{ title: 'Completed: a.mov', body: 'web on edge-01', tag: 'k1' }]);
    expect(createRoot(() => createNotifier(localStorage)).state()).toBe('on');
    notifier.disable();
    expect(createRoot(() => createNotifier(localStorage)).state()).toBe('off');
  });

  it('say so when the browser blocks them or has none', () => {
    vi.stubGlobal('Notification', Object.assign(class {}, { permission: 'denied' }));
    expect(createRoot(() => createNotifier(localStorage)).state()).toBe('blocked');
    vi.stubGlobal('Notification', undefined);
    expect(createRoot(() => createNotifier(localStorage)).state()).toBe('unsupported');
  });
});

describe('theme', () => {
  it('follows the system until a theme is picked, then keeps the pick', () => {
    const theme = createRoot(() => createTheme(localStorage));
    expect(theme.choice()).toBe('system');
    expect(document.documentElement.dataset.theme).toBeUndefined();
    theme.set('dark');
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(createRoot(() => createTheme(localStorage)).choice()).toBe('dark');
    theme.set('system');
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });
});
