/**
 * The web app's image, replayed without Docker like the service images (./dockerfile.ts): the build stage
 * compiles the server and runs `vite build`, the runtime stage holds compiled JS, the built page and
 * production node_modules only; the chart's command starts it and it serves the page and its /health.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleImage, parseDockerfile, productionInstallFlags, type AssembledImage } from './dockerfile';
import { find, render } from '../charts/helm-tools';
import { freePort, runningProcesses, startImageProcess, terminate, waitForOk } from './workloads';
import { readFileSync } from 'node:fs';

jest.setTimeout(10 * 60_000);

const ROOT = path.resolve(__dirname, '../..');
const DOCKERFILE = path.join(ROOT, 'docker/web-app.Dockerfile');
let workDir: string;
let image: AssembledImage;

function files(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix + entry.name;
    if (relative === 'node_modules') return [];
    return entry.isDirectory() ? files(path.join(dir, entry.name), `${relative}/`) : [relative];
  });
}

beforeAll(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ticketing-web-image-'));
  chmodSync(workDir, 0o755);
});

afterAll(async () => {
  for (const handle of runningProcesses) handle.child.kill('SIGKILL');
  await Promise.all([...runningProcesses].map((handle) => handle.exited));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('when the web app Dockerfile is replayed, then the image holds the built page, compiled server and production modules only', () => {
  const flags = productionInstallFlags(parseDockerfile(readFileSync(DOCKERFILE, 'utf8')));
  expect(flags).toEqual(expect.arrayContaining(['--omit=dev', '--ignore-scripts', '--workspace=@ticketing/platform', '--workspace=@ticketing/web-app']));
  image = assembleImage({ context: ROOT, dockerfilePath: DOCKERFILE, workDir, extraInstallFlags: ['--prefer-offline'] });
  expect(image.user?.uid).toBeGreaterThan(0);
  expect(image.env.NODE_ENV).toBe('production');
  const listed = files(image.appDir);
  const allowed = /^(package\.json|services\/platform\/(package\.json|dist\/.+\.(js|js\.map|d\.ts|d\.ts\.map|json))|services\/web-app\/(package\.json|dist\/server\/.+\.(js|js\.map|d\.ts|d\.ts\.map)|dist\/public\/(index\.html|assets\/[\w.-]+\.(js|css|js\.map))))$/;
  expect(listed.filter((file) => !allowed.test(file))).toEqual([]);
  expect(listed).toContain('services/web-app/dist/public/index.html');
  expect(listed).toContain('services/web-app/dist/server/main.js');
  expect(readdirSync(path.join(image.appDir, 'node_modules'))).not.toContain('vite');
});

test('when the chart’s web app container starts from the image, then it answers /health and serves the page', async () => {
  const port = await freePort();
  const deployment = find(render({ set: [`webApp.port=${port}`] }), 'Deployment', 'ticketing-web-app');
  const container = deployment.spec.template.spec.containers[0];
  expect(image.cmd).toEqual(container.command);
  const env = Object.fromEntries(container.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]));
  const handle = startImageProcess('web-app', image, container.command, { ...env, HOST: '127.0.0.1' });
  await waitForOk(handle, `http://127.0.0.1:${port}/health`);
  const page = await fetch(`http://127.0.0.1:${port}/`);
  const html = await page.text();
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  const script = /src="\.\/(assets\/[\w.-]+\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  expect((await fetch(`http://127.0.0.1:${port}/${script}`)).status).toBe(200);
  expect(await terminate(handle, 10_000)).toBe(0);
});
