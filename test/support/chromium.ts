/**
 * Where the tests find a Chromium for playwright-core: CHROMIUM_PATH, else the usual Debian/Ubuntu places.
 * In CI (`CI` set) a missing Chromium is an error, not a skip: `.ci/run` installs it, so a skip there would
 * hide a broken set-up. Elsewhere the browser tests skip with a warning.
 */
import { existsSync } from 'node:fs';

const INSTALL = 'apt-get install -y chromium (or set CHROMIUM_PATH)';

export const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(
  (candidate): candidate is string => Boolean(candidate && existsSync(candidate)),
);

if (!executablePath && process.env.CI) throw new Error(`browser tests: no Chromium found in CI; install it: ${INSTALL}`);
if (!executablePath) console.warn(`browser tests: no Chromium found (${INSTALL}); skipping`);

export const describeWithBrowser = executablePath ? describe : describe.skip;
