'use strict';
/** Command-line flags of `npm run bench -- …`. Pure; unit-tested in test/load/args.test.ts. */

const ALL_SCENARIOS = [1, 2, 3, 4, 5, 6, 7, 8];
/** Run only when named: scenario 9 (the waiting room, issue 15) takes about two minutes on its own. */
const KNOWN_SCENARIOS = [...ALL_SCENARIOS, 9];

const USAGE = `Usage: npm run bench -- [options]
  --scenarios LIST   comma-separated scenario numbers to run (default 1,2,3,4,5,6,7,8)
                       1 steady bookings  2 flash sale  3 seat map under load
                       4 confirm -> sold  5 expiry of 10,000 holds  6 pgbench reference
                       7 open-loop bookings at 0.1 x pgbench tps, one seat each
                       8 live seat map: 2,000 stream subscribers during 200 bookings/s
                       9 waiting room (only when named: 50,000 buyers queue for 1,000 seats)
  --duration SECONDS override the 20 s of scenarios 1, 3, 4 and 8 (and pgbench's 10 s, if shorter) for quick runs
  --out FILE         also write every figure as JSON to FILE
  --profile          run the product's processes with --cpu-prof and summarize the top self-time functions
  --strict           exit 1 when any figure misses its target (correctness violations always exit 1)
  --no-build         skip the incremental build (tsc -b) before the run
  --tracing-overhead instead of the scenarios: scenario 1 untraced, traced at 100 % and at 10 % (each
                       exporting to a local OTLP receiver the bench starts), back to back, and the cost
  --rounds N         rounds of --tracing-overhead (default 3)
  --help             show this help`;

class ArgsError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ArgsError';
  }
}

function parseScenarios(value) {
  if (!value || !/^\s*\d+(\s*,\s*\d+)*\s*$/.test(value)) {
    throw new ArgsError(`--scenarios expects a comma-separated list such as 1,2,6; got "${value ?? ''}"`);
  }
  const numbers = [...new Set(value.split(',').map((part) => Number(part.trim())))].sort((a, b) => a - b);
  const unknown = numbers.filter((n) => !KNOWN_SCENARIOS.includes(n));
  if (unknown.length) throw new ArgsError(`unknown scenario ${unknown.join(', ')} (scenarios are 1 to 9)`);
  return numbers;
}

function parseDuration(value) {
  const seconds = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(seconds) || seconds < 1 || seconds > 600) {
    throw new ArgsError(`--duration expects seconds between 1 and 600; got "${value ?? ''}"`);
  }
  return seconds;
}

/** Parses argv (without node and the script); throws ArgsError with a one-line reason. */
function parseRounds(value) {
  const rounds = Number(value);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new ArgsError(`--rounds expects a whole number between 1 and 20; got "${value ?? ''}"`);
  return rounds;
}

function parseArgs(argv) {
  const options = { scenarios: [...ALL_SCENARIOS], duration: undefined, out: undefined, profile: false, strict: false, build: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new ArgsError(`${flag} needs a value`);
      i += 1;
      return next;
    };
    switch (flag) {
      case '--scenarios':
        options.scenarios = parseScenarios(value());
        break;
      case '--duration':
        options.duration = parseDuration(value());
        break;
      case '--out': {
        const file = value();
        if (!file.trim()) throw new ArgsError('--out needs a file name');
        options.out = file;
        break;
      }
      case '--profile':
        options.profile = true;
        break;
      case '--strict':
        options.strict = true;
        break;
      case '--no-build':
        options.build = false;
        break;
      case '--tracing-overhead':
        options.tracingOverhead = true;
        break;
      case '--rounds':
        options.rounds = parseRounds(value());
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new ArgsError(`unknown argument "${arg}"`);
    }
  }
  return options;
}

module.exports = { parseArgs, ArgsError, USAGE, ALL_SCENARIOS };
