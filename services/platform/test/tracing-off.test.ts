/**
 * With tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT) the tracing bootstrap must not even load the
 * OpenTelemetry SDK: its modules cost about 30 MB of RSS in every process. Checked in plain Node (jest
 * has its own module registry), with the TypeScript source compiled on the fly by swc.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const TRACING_SOURCE = path.resolve(__dirname, '..', 'src', 'tracing.ts');

const probe = `
const fs = require('node:fs');
const { transformSync } = require('@swc/core');
require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename, jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
const { startTracing } = require(process.argv[1]);
const started = startTracing('tracing-off-test');
const loaded = Object.keys(require.cache).filter((file) => /@opentelemetry[\\\\/](sdk-|instrumentation-|exporter-|resources)/.test(file));
const instrumentations = Object.keys(require.cache).filter((file) => /@opentelemetry[\\\\/]instrumentation-/.test(file));
const pgWrapped = Boolean(require('pg').Client.prototype[Symbol.for('ticketing.platform.pgQuerySpans')]);
process.stdout.write(JSON.stringify({ started, loaded: loaded.length, instrumentations: instrumentations.length, pgWrapped }));
`;

interface Probe {
  started: boolean;
  loaded: number;
  instrumentations: number;
  pgWrapped: boolean;
}

function runProbe(env: NodeJS.ProcessEnv): Probe {
  const output = execFileSync(process.execPath, ['-e', probe, TRACING_SOURCE], {
    cwd: path.resolve(__dirname, '..'),
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(output) as Probe;
}

test('tracing off: no SDK, exporter or instrumentation module is loaded, and pg is not wrapped', () => {
  expect(runProbe({})).toEqual({ started: false, loaded: 0, instrumentations: 0, pgWrapped: false });
});

test('tracing on: the SDK and the exporter are loaded, still no instrumentation package; pg queries are wrapped', () => {
  const result = runProbe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' });
  expect(result).toMatchObject({ started: true, instrumentations: 0, pgWrapped: true });
  expect(result.loaded).toBeGreaterThan(5);
});
