/**
 * A list that renders only the rows in view (plus a few either side), so ten
 * thousand jobs cost as much as forty. Rows have one fixed height, which
 * keeps the arithmetic exact and scrolling free of jumps.
 *
 * Rows are keyed by item: scrolling by one row moves one DOM node, the rest
 * keep theirs. Arrow keys, Page Up/Down, Home and End move the focus from
 * row to row, scrolling rows that are not rendered yet into view first.
 */
import { createSignal, For, onCleanup, onMount, type Accessor, type JSX } from 'solid-js';

export interface VirtualListProps<T> {
  items: readonly T[];
  rowHeight: number;
  /** Rows rendered beyond each edge of the view. */
  overscan?: number;
  label: string;
  /** Used when the view cannot be measured (before layout, or in a DOM without layout). */
  fallbackHeight?: number;
  /** The scrolling element, for a caller that scrolls it (a log that follows its tail). */
  viewportRef?: (element: HTMLDivElement) => void;
  class?: string;
  children: (item: T, index: Accessor<number>) => JSX.Element;
}

/** The rows to render for a scroll position: [start, end). */
export function visibleRange(count: number, rowHeight: number, scrollTop: number, viewHeight: number, overscan: number): [number, number] {
  const first = Math.floor(scrollTop / rowHeight);
  const last = Math.ceil((scrollTop + viewHeight) / rowHeight);
  return [Math.max(0, first - overscan), Math.min(count, last + overscan)];
}

export function VirtualList<T>(props: VirtualListProps<T>): JSX.Element {
  let viewport!: HTMLDivElement;
  const [scrollTop, setScrollTop] = createSignal(0);
  const [viewHeight, setViewHeight] = createSignal(props.fallbackHeight ?? 600);
  const overscan = () => props.overscan ?? 6;
  const range = () => visibleRange(props.items.length, props.rowHeight, scrollTop(), viewHeight(), overscan());
  const rows = () => props.items.slice(range()[0], range()[1]);

  onMount(() => {
    props.viewportRef?.(viewport);
    const measure = () => setViewHeight(viewport.clientHeight || props.fallbackHeight || 600);
    measure();
    if (typeof ResizeObserver !== 'undefined') {
      const observer = new ResizeObserver(measure);
      observer.observe(viewport);
      onCleanup(() => observer.disconnect());
    }
  });

  /** Scrolls row `index` into view and focuses its first focusable element. */
  const focusRow = (index: number) => {
    const target = Math.max(0, Math.min(props.items.length - 1, index));
    const top = target * props.rowHeight;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + props.rowHeight > viewport.scrollTop + viewHeight()) viewport.scrollTop = top + props.rowHeight - viewHeight();
    // Render the new window now rather than on the scroll event, so the row exists to be focused.
    setScrollTop(viewport.scrollTop);
    viewport.querySelector<HTMLElement>(`[data-index="${target}"] a, [data-index="${target}"] button`)?.focus();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const row = (event.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (!row) return;
    const index = Number(row.dataset.index);
    const page = Math.max(1, Math.floor(viewHeight() / props.rowHeight) - 1);
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, PageDown: index + page, PageUp: index - page, Home: 0, End: props.items.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    focusRow(moves[event.key]!);
  };

  return (
    <div ref={viewport} class={`vlist ${props.class ?? ''}`} role="list" aria-label={props.label} onScroll={() => setScrollTop(viewport.scrollTop)} onKeyDown={onKeyDown}>
      <div class="vlist-space" style={{ height: `${props.items.length * props.rowHeight}px` }}>
        <For each={rows()}>
          {(item, i) => {
            const index = () => range()[0] + i();
            return (
              <div role="listitem" class="vlist-row" data-index={index()} aria-posinset={index() + 1} aria-setsize={props.items.length} style={{ transform: `translateY(${index() * props.rowHeight}px)`, height: `${props.rowHeight}px` }}>
                {props.children(item, index)}
              </div>
            );
          }}
        </For>
      </div>
    </div>
  );
}
