/* eslint-disable @typescript-eslint/no-require-imports */
const { parseArgs, ArgsError } = require('./lib/args.js');

describe('bench arguments', () => {
  it('defaults to every scenario at the issue’s durations', () => {
    expect(parseArgs([])).toEqual({
      scenarios: [1, 2, 3, 4, 5, 6, 7, 8],
      duration: undefined,
      out: undefined,
      profile: false,
      strict: false,
      build: true,
      help: false,
    });
  });

  it('reads --scenarios, --duration, --out, --profile, --strict and --no-build, with or without =', () => {
    const options = parseArgs(['--scenarios', '3, 1,3', '--duration=5', '--out', 'bench-results.json', '--profile', '--strict', '--no-build']);
    expect(options).toMatchObject({ scenarios: [1, 3], duration: 5, out: 'bench-results.json', profile: true, strict: true, build: false });
  });

  it('runs the waiting room (9) only when named', () => {
    expect(parseArgs(['--scenarios', '9']).scenarios).toEqual([9]);
  });

  it('refuses what it does not understand, with a reason', () => {
    expect(() => parseArgs(['--scenarios', '10'])).toThrow(/unknown scenario 10/);
    expect(() => parseArgs(['--scenarios', 'all'])).toThrow(ArgsError);
    expect(() => parseArgs(['--duration', '0'])).toThrow(/between 1 and 600/);
    expect(() => parseArgs(['--duration'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--out', '--profile'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
  });

  it('reads --tracing-overhead and --rounds', () => {
    expect(parseArgs(['--tracing-overhead', '--rounds', '5', '--duration', '10'])).toMatchObject({ tracingOverhead: true, rounds: 5, duration: 10 });
    expect(() => parseArgs(['--rounds', '0'])).toThrow(/between 1 and 20/);
  });

  it('recognises --help', () => {
    expect(parseArgs(['--help']).help).toBe(true);
  });
});
