/**
 * Routes live in the URL's hash (#/job/<appliance>/<job>), so the same
 * build works from any static host and a reload never asks the server for a
 * path it does not know. Three screens do not need a router library.
 */
import { createSignal, type Accessor } from 'solid-js';

export type Route = { name: 'fleet' } | { name: 'appliances' } | { name: 'job'; applianceId: string; jobId: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'appliances') return { name: 'appliances' };
  if (parts[0] === 'job' && parts[1] && parts[2]) return { name: 'job', applianceId: parts[1], jobId: parts[2] };
  return { name: 'fleet' };
}

export function href(route: Route): string {
  switch (route.name) {
    case 'appliances':
      return '#/appliances';
    case 'job':
      return `#/job/${encodeURIComponent(route.applianceId)}/${encodeURIComponent(route.jobId)}`;
    default:
      return '#/';
  }
}

/** The current route, following the address bar. */
export function createRouter(): { route: Accessor<Route>; go(route: Route): void } {
  const [route, setRoute] = createSignal(parseRoute(location.hash));
  window.addEventListener('hashchange', () => setRoute(parseRoute(location.hash)));
  return {
    route,
    go(next) {
      location.hash = href(next);
    },
  };
}
