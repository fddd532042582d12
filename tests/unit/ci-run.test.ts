import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('.ci/run', () => {
  it('runs exactly the install and test commands that the README gives', () => {
    const readme = readFileSync('README.md', 'utf8');
    const ci = readFileSync('.ci/run', 'utf8');
    const quick = /npm ci && npm test/.exec(readme);
    expect(quick, 'README shows the test command').not.toBeNull();
    expect(readme).toMatch(/npm ci && npm start/);
    const commands = ci
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && !l.startsWith('set ') && !l.startsWith('cd '));
    expect(commands).toEqual(['npm ci', 'npm test']);
  });
});
