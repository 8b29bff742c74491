import { describe, expect, it } from 'vitest';
import { MAX_LINE, spawnGroup } from '../../agent/runner/process.js';

describe('a child process in its own group', () => {
  it('passes stderr on line by line, a line longer than MAX_LINE in pieces of exactly MAX_LINE', async () => {
    const lines: string[] = [];
    // One 150,000-character line written in small pieces, a \r-separated stats line, then a plain one.
    const script = "const s='y'.repeat(150000); for (let i = 0; i < s.length; i += 1000) process.stderr.write(s.slice(i, i + 1000)); process.stderr.write('\\nfps=1\\rfps=2\\nend\\n')";
    const child = spawnGroup(process.execPath, ['-e', script], { onStderrLine: (line) => lines.push(line) });
    const exit = await child.exited;
    expect(exit.exitCode).toBe(0);
    expect(lines.map((line) => line.length)).toEqual([MAX_LINE, MAX_LINE, 150_000 - 2 * MAX_LINE, 5, 5, 3]);
    expect(lines.slice(3)).toEqual(['fps=1', 'fps=2', 'end']);
    expect(exit.stderrTail.at(-1)).toBe('end');
  });
});
