/** What every screen may use, handed down once from the app (no module-level singletons, so tests build their own). */
import { createContext, useContext } from 'solid-js';
import type { createNotifier } from '../lib/notifications';
import type { Route } from '../lib/router';
import type { Fleet } from './fleet';
import type { JobStore } from './job-store';
import type { Notices } from './notices';
import type { SavedAppliances } from './saved-appliances';

export interface ConsoleServices {
  saved: SavedAppliances;
  fleet: Fleet;
  jobs: JobStore;
  notices: Notices;
  notifier: ReturnType<typeof createNotifier>;
  go(route: Route): void;
}

export const ConsoleContext = createContext<ConsoleServices>();

export function useConsole(): ConsoleServices {
  const services = useContext(ConsoleContext);
  if (!services) throw new Error('useConsole() outside <ConsoleContext.Provider>');
  return services;
}
