/**
 * Replays a service Dockerfile without Docker, so a test can run the image's processes from exactly the
 * files the image would hold.
 *
 * Every stage gets its own folder standing for the container's root filesystem. COPY from the build context
 * honours .dockerignore, COPY --from copies between those folders, ENV/USER/CMD/EXPOSE/WORKDIR are recorded,
 * and the RUN lines are replayed: the production `npm ci` runs for real (its flags taken from the Dockerfile),
 * `npx tsc -b …` compiles for real, and the build stage's full `npm ci` is stood in for by the repository's
 * own node_modules, installed from the same lockfile. An instruction or command this module cannot replay
 * fails the test, so the Dockerfile and the test cannot drift apart silently.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export interface Instruction {
  keyword: string;
  /** Leading `--name=value` options (COPY --from, --chown, …). */
  flags: Record<string, string>;
  /** The rest of the line, continuations joined. */
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** What the final stage leaves for `docker run`. */
export interface AssembledImage {
  /** Folder holding the final stage's WORKDIR (the container's /app). */
  appDir: string;
  workdir: string;
  base: string;
  env: Record<string, string>;
  user?: { uid: number; gid: number };
  /** CMD in exec form. */
  cmd: string[];
  exposed: number[];
  /** One line per replayed instruction, for failure messages. */
  log: string[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines are dropped, also inside a continuation (as Docker does).
    if (trimmed.startsWith('#') || (!trimmed && !pending)) return;
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending ? { text: `${pending.text} ${part}`.trim(), line: pending.line } : { text: part, line: index + 1 };
    if (!continues) {
      logical.push(pending);
      pending = undefined;
    }
  });
  if (pending) logical.push(pending);

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const { text: content, line } of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(content);
    if (!match) continue;
    const keyword = match[1].toUpperCase();
    let rest = match[2];
    const flags: Record<string, string> = {};
    for (let flag = /^--([\w-]+)=(\S+)\s+/.exec(rest); flag; flag = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
      flags[flag[1]] = flag[2];
      rest = rest.slice(flag[0].length);
    }
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile line ${line}: cannot read FROM ${rest}`);
      const base = from[1].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => globalArgs[a ?? b] ?? '');
      stages.push({ name: from[2] ?? String(stages.length), base, instructions: [] });
    } else if (!stages.length) {
      if (keyword !== 'ARG') throw new Error(`Dockerfile line ${line}: ${keyword} before the first FROM`);
      const [name, value = ''] = rest.split('=');
      globalArgs[name] = value;
    } else {
      stages[stages.length - 1].instructions.push({ keyword, flags, args: rest, line });
    }
  }
  return { globalArgs, stages };
}

/** `npm ci` options of the RUN line that installs the production dependencies (the one with --omit=dev). */
export function productionInstallFlags(dockerfile: ParsedDockerfile): string[] {
  const installs = dockerfile.stages
    .flatMap((stage) => stage.instructions)
    .filter((instruction) => instruction.keyword === 'RUN')
    .flatMap((instruction) => shellCommands(instruction.args))
    .filter((words) => words[0] === 'npm' && words[1] === 'ci' && words.includes('--omit=dev'));
  if (installs.length !== 1) throw new Error(`expected one \`npm ci --omit=dev\` in the Dockerfile, found ${installs.length}`);
  return installs[0].slice(2);
}

/** Builds the .dockerignore predicate: true when a context-relative path is excluded. */
export function dockerignoreMatcher(text: string): (relativePath: string) => boolean {
  const patterns = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((pattern) => {
      if (pattern.startsWith('!')) throw new Error(`.dockerignore exceptions (${pattern}) are not replayed by test/image`);
      return globToRegExp(pattern.replace(/^\/+|\/+$/g, ''));
    });
  return (relativePath) => {
    const segments = relativePath.split('/');
    // A pattern that matches a folder excludes everything inside it.
    return segments.some((_, index) => {
      const prefix = segments.slice(0, index + 1).join('/');
      return patterns.some((pattern) => pattern.test(prefix));
    });
  };
}

function globToRegExp(pattern: string): RegExp {
  const segments = pattern.split('/');
  let source = '^';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:.*/)?';
      return;
    }
    source += segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
    if (!last) source += '/';
  });
  return new RegExp(`${source}$`);
}

/** Splits a RUN line into its `&&`-joined commands, each as words. Quoting is not replayed. */
function shellCommands(line: string): string[][] {
  if (/["'`;|$<>]/.test(line.replace(/&&/g, ''))) throw new Error(`RUN with shell syntax is not replayed by test/image: ${line}`);
  return line.split('&&').map((command) => command.trim().split(/\s+/));
}

export interface AssembleOptions {
  /** Repository root = the build context. */
  context: string;
  dockerfilePath: string;
  /** Empty folder that receives one sub-folder per stage. */
  workDir: string;
  /** Extra options for the production `npm ci` that do not change what is installed (e.g. --prefer-offline). */
  extraInstallFlags?: string[];
}

/** Replays the stages the final stage depends on and returns the final stage's filesystem and settings. */
export function assembleImage(options: AssembleOptions): AssembledImage {
  const dockerfile = parseDockerfile(readFileSync(options.dockerfilePath, 'utf8'));
  const ignorePath = path.join(options.context, '.dockerignore');
  const ignored = dockerignoreMatcher(existsSync(ignorePath) ? readFileSync(ignorePath, 'utf8') : '');
  const log: string[] = [];
  const stageRoots = new Map<string, string>();
  const final = dockerfile.stages[dockerfile.stages.length - 1];
  const needed = neededStages(dockerfile, final);
  let result: AssembledImage | undefined;

  for (const stage of dockerfile.stages) {
    if (!needed.has(stage.name)) continue; // BuildKit skips stages the target does not use.
    if (stageRoots.has(stage.base)) throw new Error(`FROM ${stage.base} (a stage as base) is not replayed by test/image`);
    const root = path.join(options.workDir, `stage-${stage.name}`);
    mkdirSync(root, { recursive: true });
    stageRoots.set(stage.name, root);
    const state = { workdir: '/', env: {} as Record<string, string>, user: undefined as AssembledImage['user'], cmd: [] as string[], exposed: [] as number[] };
    const inStage = (containerPath: string) => path.join(root, path.posix.resolve(state.workdir, containerPath));

    for (const instruction of stage.instructions) {
      const where = `${path.basename(options.dockerfilePath)}:${instruction.line} (${stage.name})`;
      log.push(`${where} ${instruction.keyword} ${instruction.args}`);
      switch (instruction.keyword) {
        case 'ARG':
          break;
        case 'WORKDIR':
          state.workdir = path.posix.resolve(state.workdir, instruction.args);
          mkdirSync(inStage('.'), { recursive: true });
          break;
        case 'ENV':
          for (const pair of instruction.args.match(/[^\s"]+(?:"[^"]*")?[^\s"]*/g) ?? []) {
            const [name, ...value] = pair.split('=');
            if (!value.length) throw new Error(`${where}: only ENV name=value is replayed`);
            // Docker's quoting: a double-quoted value may hold spaces; the quotes are not part of it.
            state.env[name] = value.join('=').replace(/"/g, '');
          }
          break;
        case 'USER': {
          const ids = /^(\d+)(?::(\d+))?$/.exec(instruction.args);
          if (!ids) throw new Error(`${where}: USER must be numeric (Kubernetes runAsNonRoot needs it): ${instruction.args}`);
          state.user = { uid: Number(ids[1]), gid: Number(ids[2] ?? ids[1]) };
          break;
        }
        case 'EXPOSE':
          state.exposed = instruction.args.split(/\s+/).map((port) => Number(port.split('/')[0]));
          break;
        case 'CMD':
          if (!instruction.args.startsWith('[')) throw new Error(`${where}: CMD must use the exec form so node receives signals`);
          state.cmd = JSON.parse(instruction.args) as string[];
          break;
        case 'COPY': {
          const unknownFlags = Object.keys(instruction.flags).filter((flag) => flag !== 'from' && flag !== 'chown');
          if (unknownFlags.length) throw new Error(`${where}: COPY --${unknownFlags[0]} is not replayed by test/image`);
          const words = instruction.args.split(/\s+/);
          const destination = words.pop()!;
          if (words.length > 1 && !destination.endsWith('/')) throw new Error(`${where}: several sources need a folder destination`);
          for (const source of words) {
            if (/[*?[]/.test(source)) throw new Error(`${where}: wildcards in COPY are not replayed by test/image`);
            const from = instruction.flags.from;
            let sourcePath: string;
            if (from) {
              const fromRoot = stageRoots.get(from);
              if (!fromRoot) throw new Error(`${where}: COPY --from=${from} names no earlier stage`);
              sourcePath = path.join(fromRoot, path.posix.resolve('/', source));
            } else {
              sourcePath = path.join(options.context, path.posix.normalize(source));
            }
            if (!existsSync(sourcePath)) throw new Error(`${where}: COPY source ${source} does not exist`);
            const sourceIsDir = statSync(sourcePath).isDirectory();
            const target = sourceIsDir || !destination.endsWith('/') ? inStage(destination) : path.join(inStage(destination), path.basename(source));
            if (from) copyVerbatim(sourcePath, target, sourceIsDir);
            else copyFromContext(options.context, path.posix.normalize(source).replace(/\/$/, ''), target, ignored);
          }
          break;
        }
        case 'RUN':
          for (const words of shellCommands(instruction.args)) {
            runCommand(words, { where, cwd: inStage('.'), env: state.env, root, options, log });
          }
          break;
        default:
          throw new Error(`${where}: ${instruction.keyword} is not replayed by test/image`);
      }
    }
    if (stage === final) {
      result = { appDir: inStage('.'), workdir: state.workdir, base: stage.base, env: state.env, user: state.user, cmd: state.cmd, exposed: state.exposed, log };
    }
  }
  return result!;
}

function neededStages(dockerfile: ParsedDockerfile, target: Stage): Set<string> {
  const needed = new Set<string>();
  const visit = (stage: Stage) => {
    if (needed.has(stage.name)) return;
    needed.add(stage.name);
    for (const instruction of stage.instructions) {
      const from = instruction.flags.from;
      const source = from && dockerfile.stages.find((candidate) => candidate.name === from);
      if (source) visit(source);
    }
  };
  visit(target);
  return needed;
}

/** COPY from the build context: what .dockerignore excludes never reaches the image. */
function copyFromContext(context: string, relative: string, target: string, ignored: (relativePath: string) => boolean) {
  if (ignored(relative)) throw new Error(`COPY ${relative}: the path is excluded by .dockerignore`);
  const source = path.join(context, relative);
  const stats = lstatSync(source);
  if (stats.isDirectory()) {
    mkdirSync(target, { recursive: true });
    for (const entry of readdirSync(source)) {
      const child = `${relative}/${entry}`;
      if (!ignored(child)) copyFromContext(context, child, path.join(target, entry), ignored);
    }
  } else if (stats.isSymbolicLink()) {
    mkdirSync(path.dirname(target), { recursive: true });
    symlinkSync(readlinkSync(source), target);
  } else {
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(source, target);
  }
}

/** COPY --from: symbolic links (the workspace links in node_modules) are kept as links, as Docker does. */
function copyVerbatim(source: string, target: string, isDir: boolean) {
  if (isDir) {
    mkdirSync(target, { recursive: true });
    execFileSync('cp', ['-a', `${source}/.`, `${target}/`]);
  } else {
    mkdirSync(path.dirname(target), { recursive: true });
    execFileSync('cp', ['-a', source, target]);
  }
}

interface RunContext {
  where: string;
  cwd: string;
  env: Record<string, string>;
  root: string;
  options: AssembleOptions;
  log: string[];
}

function runCommand(words: string[], run: RunContext) {
  const [program, subcommand] = words;
  if (program === 'npm' && subcommand === 'ci' && words.includes('--omit=dev')) {
    const flags = [...words.slice(2), ...(run.options.extraInstallFlags ?? []).filter((flag) => !words.includes(flag))];
    execute('npm', ['ci', ...flags], run);
  } else if (program === 'npm' && subcommand === 'ci') {
    // The build stage's full install: the repository's node_modules come from `npm ci` of the same lockfile.
    linkRepositoryModules(run);
    run.log.push(`  replayed with the repository's node_modules (same package-lock.json)`);
  } else if (program === 'npm' && subcommand === 'cache' && words[2] === 'clean') {
    // Only shrinks the layer; running it would wipe this machine's shared npm cache.
    run.log.push('  skipped: layer size only');
  } else if (program === 'npx') {
    const binary = path.join(run.cwd, 'node_modules', '.bin', words[1]);
    if (!existsSync(binary)) throw new Error(`${run.where}: npx ${words[1]}: not installed in the build stage`);
    execute(binary, words.slice(2), run);
  } else if (program === 'rm' && words[1] === '-rf') {
    // Removes npm/yarn/corepack from the base image; nothing of the application may be removed.
    const appPaths = words.slice(2).filter((target) => !target.startsWith('/usr/') && !target.startsWith('/opt/'));
    if (appPaths.length) throw new Error(`${run.where}: rm -rf of ${appPaths.join(' ')} is not replayed by test/image`);
    run.log.push('  skipped: removes base-image tooling only');
  } else {
    throw new Error(`${run.where}: RUN ${words.join(' ')} is not replayed by test/image`);
  }
}

function execute(command: string, args: string[], run: RunContext) {
  run.log.push(`  $ ${path.basename(command)} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: run.cwd, env: { ...process.env, ...run.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${run.where}: ${path.basename(command)} ${args.join(' ')} exited ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Stands in for the build stage's `npm ci`: a node_modules whose packages link to the repository's, and
 * whose workspace links point at the workspaces copied into this stage (so tsc -b builds those).
 */
function linkRepositoryModules(run: RunContext) {
  const repoModules = path.join(run.options.context, 'node_modules');
  if (!existsSync(repoModules)) throw new Error('run `npm ci` in the repository first: the build stage reuses its node_modules');
  const modules = path.join(run.cwd, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(run.cwd, 'package.json'), 'utf8')) as { workspaces?: string[] };
  const workspaceNames = new Map<string, string>();
  for (const workspace of manifest.workspaces ?? []) {
    const manifestPath = path.join(run.cwd, workspace, 'package.json');
    if (!existsSync(manifestPath)) throw new Error(`${run.where}: npm ci needs ${workspace}/package.json in the stage`);
    workspaceNames.set((JSON.parse(readFileSync(manifestPath, 'utf8')) as { name: string }).name, workspace);
  }
  const scopes = new Set([...workspaceNames.keys()].filter((name) => name.startsWith('@')).map((name) => name.split('/')[0]));
  for (const entry of readdirSync(repoModules)) {
    if (scopes.has(entry)) {
      mkdirSync(path.join(modules, entry), { recursive: true });
      for (const scoped of readdirSync(path.join(repoModules, entry))) {
        if (!workspaceNames.has(`${entry}/${scoped}`)) symlinkSync(path.join(repoModules, entry, scoped), path.join(modules, entry, scoped));
      }
    } else {
      symlinkSync(path.join(repoModules, entry), path.join(modules, entry));
    }
  }
  for (const [name, workspace] of workspaceNames) {
    const link = path.join(modules, name);
    symlinkSync(path.relative(path.dirname(link), path.join(run.cwd, workspace)), link);
  }
}
