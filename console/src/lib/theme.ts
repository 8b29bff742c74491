/** Light, dark, or as the system says; remembered in the browser. */
import { createSignal } from 'solid-js';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'spool.theme';

export function createTheme(storage: Storage = localStorage) {
  const saved = storage.getItem(KEY);
  const [choice, setChoice] = createSignal<ThemeChoice>(saved === 'light' || saved === 'dark' ? saved : 'system');
  const apply = (value: ThemeChoice) => {
    if (value === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = value;
  };
  apply(choice());
  return {
    choice,
    set(value: ThemeChoice) {
      storage.setItem(KEY, value);
      setChoice(value);
      apply(value);
    },
  };
}
