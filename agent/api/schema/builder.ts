/**
 * The one Pothos builder. Fields are non-null unless they say otherwise
 * (the contract's `Job!` lists and counts); nullable ones are marked.
 *
 * Global IDs: a Job's global ID is its job id as the agent logs it and names
 * its work folder, not base64 of "Job:<id>". Jobs are the only Node type and
 * job ids are unique ULIDs, so the id is already global, and an operator can
 * paste an id from the journal into `spool cancel` or `job(id:)`. Any other
 * type that becomes a Node later is written "Type:<id>".
 */
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import type { ApiContext } from '../context.js';

export const builder = new SchemaBuilder<{
  Context: ApiContext;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  plugins: [RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    encodeGlobalID: (typename, id) => (typename === 'Job' ? String(id) : `${typename}:${String(id)}`),
    decodeGlobalID: (globalID) => {
      const colon = globalID.indexOf(':');
      return colon < 0 ? { typename: 'Job', id: globalID } : { typename: globalID.slice(0, colon), id: globalID.slice(colon + 1) };
    },
  },
});

/** A job id from an `ID` argument: the plain id, or the `Job:<id>` spelling. */
export function jobIdArg(raw: string | number): string {
  const text = String(raw).trim();
  return text.startsWith('Job:') ? text.slice(4) : text;
}

/** Epoch ms as the contract's timestamp: an ISO 8601 string in UTC. */
export function iso(ms: number | null | undefined): string | null {
  return ms == null ? null : new Date(ms).toISOString();
}
