/* eslint-disable @typescript-eslint/no-require-imports */
const { summarizeProfile, moduleOf } = require('./lib/cpuprofile.js');

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '0' });

describe('cpu profile summary', () => {
  it('names modules by npm package or product file', () => {
    expect(moduleOf('file:///work/main/node_modules/pg/lib/client.js')).toBe('pg');
    expect(moduleOf('file:///work/main/node_modules/@koa/router/lib/router.js')).toBe('@koa/router');
    expect(moduleOf('file:///work/main/services/booking-service/dist/domain/place-hold.js')).toBe('services/booking-service/dist/domain/place-hold.js');
    expect(moduleOf('node:internal/streams/readable')).toBe('node:internal/streams/readable');
    expect(moduleOf('')).toBe('(native/V8)');
  });

  it('adds up self time per function and module, idle apart', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 6] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('parse', 'file:///x/node_modules/pg-protocol/dist/parser.js', 9) },
        { id: 4, callFrame: frame('placeHold', 'file:///x/services/booking-service/dist/domain/place-hold.js', 41) },
        { id: 5, callFrame: frame('(garbage collector)') },
        { id: 6, callFrame: frame('query', 'file:///x/node_modules/pg/lib/client.js', 600), children: [7] },
        { id: 7, callFrame: frame('writeGeneric', 'node:internal/stream_base_commons', 120), children: [8] },
        { id: 8, callFrame: frame('writev') },
      ],
      samples: [2, 3, 3, 4, 5, 8, 2],
      timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000],
    };
    const summary = summarizeProfile(profile);
    expect(summary.totalMs).toBe(6);
    expect(summary.idleMs).toBe(1);
    expect(summary.busyMs).toBe(5);
    expect(summary.gcMs).toBe(1);
    expect(summary.functions[0]).toEqual({ name: 'parse', where: 'pg-protocol/dist/parser.js:10', module: 'pg-protocol', selfMs: 2, pct: 40 });
    expect(summary.modules.map((m: { module: string }) => m.module)).toEqual([
      'pg-protocol',
      'services/booking-service/dist/domain/place-hold.js',
      '(garbage collector)',
      '(native/V8)',
    ]);
    // The socket write is charged to pg, the package that asked for it.
    expect(summary.callers.find((c: { module: string }) => c.module === 'pg')).toEqual({ module: 'pg', selfMs: 1, pct: 20 });
  });
});
