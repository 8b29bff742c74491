/** One GPU: VRAM used/total, utilisation, encoder sessions, and both over the last minutes. */
import type { Component } from 'solid-js';
import { formatMb, formatPercent } from '../lib/format';
import type { Gpu } from '../lib/types';
import type { Sample } from '../state/sample-history';
import { Meter } from './meter';
import { Sparkline } from './sparkline';

export const GpuPanel: Component<{ gpu: Gpu; history: readonly Sample[] }> = (props) => {
  const util = () => props.history.map((s) => s.gpus[props.gpu.index]?.utilizationPercent ?? null);
  const vram = () => props.history.map((s) => s.gpus[props.gpu.index]?.memoryUsedPercent ?? null);
  return (
    <div class="gpu" data-gpu-index={props.gpu.index}>
      <div class="gpu-title">
        <strong>
          GPU {props.gpu.index}: {props.gpu.name}
        </strong>
        <span class="muted">
          {formatPercent(props.gpu.utilizationPercent)} busy · {props.gpu.encoderSessions ?? '–'} NVENC sessions
        </span>
      </div>
      <Meter label={`GPU ${props.gpu.index} VRAM`} used={props.gpu.memoryUsedMb} total={props.gpu.memoryTotalMb} text={`${formatMb(props.gpu.memoryUsedMb)} of ${formatMb(props.gpu.memoryTotalMb)}`} />
      <div class="charts">
        <figure>
          <Sparkline values={util()} label={`GPU ${props.gpu.index} utilisation, last minutes; now ${formatPercent(props.gpu.utilizationPercent)}`} />
          <figcaption>utilisation</figcaption>
        </figure>
        <figure>
          <Sparkline values={vram()} label={`GPU ${props.gpu.index} VRAM used, last minutes`} />
          <figcaption>VRAM</figcaption>
        </figure>
      </div>
    </div>
  );
};
