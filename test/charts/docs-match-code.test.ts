/**
 * Docs that once disagreed with the code (issue 11): the README diagram, the lock's place in the seed flow,
 * and references to the seed's USER_FLOW.md where the repository's docs/user-flow.md is meant.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helm-tools';

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe('docs match the code', () => {
  test('when the README draws booking → event, then it shows one hold call, not check, price and hold', () => {
    const architecture = read('README.md').split('## Architecture')[1].split('## ')[0];
    expect(architecture).not.toMatch(/check, price, hold/);
    expect(architecture).toMatch(/one hold call/);
  });

  test('when docs/user-flow.md explains step 2, then the lock comes first and the event service is called once', () => {
    const stepTwo = read('docs/user-flow.md').split('│ 2. POST /api/v1/reservations')[1].split('│ 3. GET')[0];
    const lock = stepTwo.indexOf('Redis: Lock');
    const hold = stepTwo.indexOf('REST: Hold seats');
    expect(lock).toBeGreaterThan(-1);
    expect(hold).toBeGreaterThan(lock);
    expect(stepTwo.match(/REST:/g)).toHaveLength(1);
  });

  test('when a file names the seed flow, then it points at docs/user-flow.md (the seed\'s USER_FLOW.md is not in the repository)', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((file) => file && !file.startsWith('test/charts/docs-match-code'));
    const offenders = files.filter((file) => {
      try {
        return /USER_FLOW\.md/.test(read(file).replace(/the seed's USER_FLOW\.md/g, ''));
      } catch {
        return false;
      }
    });
    expect(offenders).toEqual([]);
  });
});
