import { fireEvent, render, screen } from '@solidjs/testing-library';
import { createSignal } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { visibleRange, VirtualList } from '../../console/src/components/virtual-list';

const items = Array.from({ length: 10_000 }, (_, i) => `job-${i}`);

function renderList(rowHeight = 20, height = 200) {
  const result = render(() => (
    <VirtualList items={items} rowHeight={rowHeight} label="Jobs" fallbackHeight={height} overscan={2}>
      {(item) => <a href={`#${item}`}>{item}</a>}
    </VirtualList>
  ));
  return { ...result, viewport: screen.getByRole('list', { name: 'Jobs' }) };
}

describe('VirtualList', () => {
  it('renders only the rows in view and a few more, out of ten thousand', () => {
    renderList();
    const rows = screen.getAllByRole('listitem');
    // 200 px at 20 px a row: 10 rows, plus 2 overscan below.
    expect(rows).toHaveLength(12);
    expect(rows[0]!.textContent).toBe('job-0');
    expect(rows[0]!.getAttribute('aria-setsize')).toBe('10000');
    expect(screen.getByRole('list').firstElementChild!.getAttribute('style')).toContain('height: 200000px');
  });

  it('moves the window when scrolled, placing each row at its offset', () => {
    const { viewport } = renderList();
    viewport.scrollTop = 5000;
    fireEvent.scroll(viewport);
    const rows = screen.getAllByRole('listitem');
    expect(rows[0]!.textContent).toBe('job-248');
    expect(rows[0]!.getAttribute('style')).toContain('translateY(4960px)');
    expect(rows.at(-1)!.textContent).toBe('job-261');
  });

  it('moves the focus with the arrow keys, End and Home, rendering rows it reaches', () => {
    renderList();
    screen.getByText('job-0').focus();
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    expect(document.activeElement!.textContent).toBe('job-1');
    fireEvent.keyDown(document.activeElement!, { key: 'End' });
    expect(document.activeElement!.textContent).toBe('job-9999');
    fireEvent.keyDown(document.activeElement!, { key: 'Home' });
    expect(document.activeElement!.textContent).toBe('job-0');
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    expect(document.activeElement!.textContent).toBe('job-0');
  });

  it('follows a changing list, reusing the rows that stay', () => {
    const [list, setList] = createSignal(['a', 'b', 'c']);
    render(() => (
      <VirtualList items={list()} rowHeight={20} label="Small" fallbackHeight={200}>
        {(item) => <span>{item}</span>}
      </VirtualList>
    ));
    const b = screen.getByText('b');
    setList(['new', 'a', 'b', 'c']);
    expect(screen.getAllByRole('listitem').map((r) => r.textContent)).toEqual(['new', 'a', 'b', 'c']);
    expect(screen.getByText('b')).toBe(b);
    expect(b.parentElement!.getAttribute('style')).toContain('translateY(40px)');
  });

  it.each([
    [1000, 20, 0, 200, 2, [0, 12]],
    [1000, 20, 100, 200, 2, [3, 17]],
    [5, 20, 0, 200, 2, [0, 5]],
    [0, 20, 0, 200, 2, [0, 0]],
  ] as const)('visibleRange(%i rows of %i px, scrolled %i, %i px high, overscan %i)', (count, rowHeight, top, height, overscan, expected) => {
    expect(visibleRange(count, rowHeight, top, height, overscan)).toEqual(expected);
  });
});
