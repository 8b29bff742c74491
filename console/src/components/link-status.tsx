/** Online / offline / refused for one appliance, as a dot and a word. */
import type { Component } from 'solid-js';
import type { LinkStatus } from '../lib/appliance-link';

const WORD: Record<LinkStatus, string> = { connecting: 'Connecting', online: 'Online', offline: 'Offline', refused: 'Refused' };

export const LinkStatusBadge: Component<{ status: LinkStatus; problem?: string | null }> = (props) => (
  <span class={`link-status link-${props.status}`} data-link-status={props.status} title={props.problem ?? undefined}>
    <span class="dot" aria-hidden="true" />
    {WORD[props.status]}
  </span>
);
