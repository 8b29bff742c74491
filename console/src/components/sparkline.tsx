/**
 * A small line chart of the last minutes (0–100). Plain SVG: a few hundred
 * points once a second cost nothing, and a chart library would not earn its size.
 */
import type { Component } from 'solid-js';

export interface SparklineProps {
  /** Oldest first; null is a gap in the line (no figure in that sample). */
  values: readonly (number | null)[];
  label: string;
  width?: number;
  height?: number;
}

/** The SVG path: one "M" per run of figures, scaled to the box, 0 at the bottom. */
export function sparklinePath(values: readonly (number | null)[], width: number, height: number, max = 100): string {
  if (values.length === 0) return '';
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  let path = '';
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = (i * step).toFixed(1);
    const y = (height - (Math.max(0, Math.min(max, value)) / max) * height).toFixed(1);
    path += `${drawing ? 'L' : 'M'}${x},${y}`;
    drawing = true;
  });
  return path;
}

export const Sparkline: Component<SparklineProps> = (props) => {
  const width = () => props.width ?? 120;
  const height = () => props.height ?? 28;
  return (
    <svg class="sparkline" width={width()} height={height()} viewBox={`0 0 ${width()} ${height()}`} role="img" aria-label={props.label} preserveAspectRatio="none">
      <path d={sparklinePath(props.values, width(), height())} fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" />
    </svg>
  );
};
