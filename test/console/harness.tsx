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
import { createFakeLink, type FakeLink } from './fake-link';

export function consoleServices(appliances: { id: string; link: FakeLink }[]): ConsoleServices {
  return createRoot(() => {
    // The given ids first, then made-up ones for appliances a test adds through the page.
    const ids = appliances.map((a) => a.id);
    let added = 0;
    const saved = createSavedAppliances(localStorage, () => ids.shift() ?? `added-${++added}`);
    for (const a of appliances) saved.add({ url: a.link.link.endpoint.url, token: 'token', name: a.id });
    const jobs = createJobStore();
    const links = new Map(appliances.map((a) => [a.link.link.endpoint.url, a.link.link]));
    // An appliance a test adds gets a link that never connects.
    const fleet = createFleet({ saved, jobs, connect: (endpoint) => links.get(endpoint.url) ?? createFakeLink(() => new Promise(() => undefined), endpoint.label).link });
    return { saved, fleet, jobs, notices: createNotices(), notifier: createNotifier(localStorage), go: () => undefined };
  });
}

export function renderWith(services: ConsoleServices, ui: () => JSX.Element) {
  return render(() => <ConsoleContext.Provider value={services}>{ui()}</ConsoleContext.Provider>);
}
