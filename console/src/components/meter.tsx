/** A used/total bar (VRAM, memory, CPU) that turns amber and red as it fills. */
import type { Component } from 'solid-js';

export const Meter: Component<{ label: string; used: number; total: number; text: string }> = (props) => {
  const share = () => (props.total > 0 ? Math.max(0, Math.min(1, props.used / props.total)) : 0);
  const level = () => (share() > 0.9 ? 'high' : share() > 0.7 ? 'mid' : 'low');
  return (
    <div class="meter">
      <div class="meter-head">
        <span>{props.label}</span>
        <span class="muted">{props.text}</span>
      </div>
      <div class={`meter-track level-${level()}`} role="meter" aria-label={props.label} aria-valuemin={0} aria-valuemax={props.total} aria-valuenow={props.used} aria-valuetext={props.text}>
        <div class="meter-fill" style={{ width: `${share() * 100}%` }} />
      </div>
    </div>
  );
};
