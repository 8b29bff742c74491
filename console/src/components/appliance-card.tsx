/**
 * One appliance at a glance: online or not, GPUs, CPU and memory with their
 * recent history, queue counts, the queue switch, and the upload drop zone.
 * When the appliance is out of reach its last known figures stay, greyed.
 */
import { createSignal, Index, Show, type Component } from 'solid-js';
import { formatMb, formatPercent } from '../lib/format';
import { setQueuePaused } from '../state/actions';
import { useConsole } from '../state/console-context';
import type { FleetMember } from '../state/fleet-member';
import { GpuPanel } from './gpu-panel';
import { LinkStatusBadge } from './link-status';
import { Meter } from './meter';
import { QueueCounts } from './queue-counts';
import { Sparkline } from './sparkline';
import { UploadDrop } from './upload-drop';

export const ApplianceCard: Component<{ member: FleetMember }> = (props) => {
  const services = useConsole();
  const [busy, setBusy] = createSignal(false);
  const state = () => props.member.state();
  const online = () => props.member.link.status() === 'online';
  const memoryUsed = () => (state() ? state()!.memory.totalMb - state()!.memory.availableMb : 0);

  const toggleQueue = async () => {
    setBusy(true);
    await setQueuePaused(services, props.member, !state()?.queuePaused);
    setBusy(false);
  };

  return (
    <article class="card appliance" classList={{ stale: !online() }} data-appliance={props.member.name()} aria-labelledby={`appliance-${props.member.id}`}>
      <header class="card-head">
        <div>
          <h3 id={`appliance-${props.member.id}`}>{props.member.name()}</h3>
          <span class="muted">
            {props.member.link.endpoint.url}
            <Show when={state()}> · {state()!.hostname} · v{state()!.version}</Show>
          </span>
        </div>
        <LinkStatusBadge status={props.member.link.status()} problem={props.member.link.problem()} />
      </header>
      <Show when={props.member.link.problem()}>
        <p class="problem" role="note">
          {props.member.link.problem()}
        </p>
      </Show>
      <Show when={props.member.loadError() && online()}>
        <p class="problem">Could not load jobs: {props.member.loadError()}</p>
      </Show>
      <Show when={state()} fallback={<p class="muted">Waiting for the first figures…</p>}>
        <div class="queue-line">
          <span class={state()!.queuePaused ? 'badge badge-warn' : 'badge'} data-testid="queue-state">
            {state()!.queuePaused ? 'Queue paused' : 'Queue running'}
          </span>
          <button type="button" onClick={toggleQueue} disabled={busy() || !online()} aria-label={`${state()!.queuePaused ? 'Resume' : 'Pause'} the queue of ${props.member.name()}`}>
            {state()!.queuePaused ? 'Resume queue' : 'Pause queue'}
          </button>
        </div>
        <QueueCounts stats={props.member.stats()} />
        <div class="resources">
          <div class="resource">
            <Meter label="CPU" used={state()!.cpu.busyPercent ?? 0} total={100} text={`${formatPercent(state()!.cpu.busyPercent)} of ${state()!.cpu.cores} cores`} />
            <Sparkline values={props.member.history().map((s) => s.cpuPercent)} label="CPU busy, last minutes" />
          </div>
          <div class="resource">
            <Meter label="Memory" used={memoryUsed()} total={state()!.memory.totalMb} text={`${formatMb(memoryUsed())} of ${formatMb(state()!.memory.totalMb)}`} />
            <Sparkline values={props.member.history().map((s) => s.memoryUsedPercent)} label="Memory used, last minutes" />
          </div>
        </div>
        <Show when={state()!.gpus.length > 0} fallback={<p class="muted gpu-none">No GPU figures: {state()!.gpuError ?? 'none reported'}</p>}>
          <Index each={state()!.gpus}>{(gpu) => <GpuPanel gpu={gpu()} history={props.member.history()} />}</Index>
        </Show>
        <UploadDrop endpoint={props.member.link.endpoint} inboxes={state()!.inboxes} applianceName={props.member.name()} disabled={!online()} />
      </Show>
    </article>
  );
};
