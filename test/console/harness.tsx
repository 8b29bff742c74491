/**
 * The console's services wired as the app wires them (saved appliances,
 * job store, fleet, notices), over fake links: components under test get
 * the real state code, only the network is replaced.
 */
import { render } from '@solidjs/testing-library';
import { createRoot, type JSX } from 'solid-js';
import { createNotifier } from '../../console/src/lib/notifications';
import { ConsoleContext, type ConsoleServices } from '../../console/src/state/console-context';
import { createFleet } from '../../console/src/state/fleet';
import { createJobStore } from '../../console/src/state/job-store';
import { createNotices } from '../../console/src/state/notices';
import { createSavedAppliances } from '../../console/src/state/saved-appliances';
import type { FakeLink } from './fake-link';

export function consoleServices(appliances: { id: string; link: FakeLink }[]): ConsoleServices {
  return createRoot(() => {
    let next = 0;
    const saved = createSavedAppliances(localStorage, () => appliances[next++]!.id);
    for (const a of appliances) saved.add({ url: a.link.link.endpoint.url, token: 'token', name: a.id });
    const jobs = createJobStore();
    const links = new Map(appliances.map((a) => [a.link.link.endpoint.url, a.link.link]));
    const fleet = createFleet({ saved, jobs, connect: (endpoint) => links.get(endpoint.url)! });
    return { saved, fleet, jobs, notices: createNotices(), notifier: createNotifier(localStorage), go: () => undefined };
  });
}

export function renderWith(services: ConsoleServices, ui: () => JSX.Element) {
  return render(() => <ConsoleContext.Provider value={services}>{ui()}</ConsoleContext.Provider>);
}
