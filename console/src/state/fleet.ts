/**
 * The fleet: one member per saved appliance, made and disposed as the list
 * changes. Editing an appliance (new URL or token) replaces its member, so
 * the old link closes and a new one connects with the new settings.
 */
import { createMemo, mapArray, onCleanup, type Accessor } from 'solid-js';
import { createApplianceLink, type ApplianceLink } from '../lib/appliance-link';
import type { Endpoint } from '../lib/graphql-http';
import { createFleetMember, type FleetMember } from './fleet-member';
import type { JobStore } from './job-store';
import type { SavedAppliances } from './saved-appliances';

export interface Fleet {
  members: Accessor<FleetMember[]>;
  member(id: string): FleetMember | undefined;
}

/** Call inside a reactive root (the app's): members live as long as it does. */
export function createFleet(deps: { saved: SavedAppliances; jobs: JobStore; connect?: (endpoint: Endpoint) => ApplianceLink }): Fleet {
  const connect = deps.connect ?? ((endpoint: Endpoint) => createApplianceLink(endpoint));
  const members = createMemo(
    mapArray(deps.saved.list, (saved) => {
      const member = createFleetMember(saved, connect({ url: saved.url, token: saved.token, label: saved.name || saved.url }), deps.jobs);
      onCleanup(() => member.dispose());
      return member;
    }),
  );
  return {
    members,
    member: (id) => members().find((m) => m.id === id),
  };
}
