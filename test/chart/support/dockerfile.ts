/**
 * Replaying a Dockerfile without a container engine: its instructions parsed, the build context
 * made from the repository with .dockerignore applied, and each stage's COPY and RUN steps
 * carried out in a directory standing for that stage's filesystem (a stage FROM an earlier one
 * starts from a copy of it). The base image's own tools
 * (node, npm, sh) are the machine's.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { repoFiles } from '../../support/repo-files.js';

export interface Instruction {
  keyword: string;
  /** Flags such as --from=build, without the leading dashes. */
  flags: Record<string, string>;
  /** The rest of the line, continuation lines joined. */
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Parses a Dockerfile: comments and parser directives dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#.*)?$/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue; // comment lines inside a continued instruction are dropped
      line = line.replace(/\\\s*$/, '') + ' ' + next.trim();
    }
    const m = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot parse ${JSON.stringify(line)}`);
    let rest = m[2]!.trim();
    const flags: Record<string, string> = {};
    for (let f = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest); f; f = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest)) {
      flags[f[1]!] = f[2] ?? 'true';
      rest = rest.slice(f[0].length);
    }
    instructions.push({ keyword: m[1]!.toUpperCase(), flags, args: rest, line: start + 1 });
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' && name ? name : String(stages.length), from: image!, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before FROM`);
      const [k, v = ''] = ins.args.split('=');
      globalArgs[k!.trim()] = v.trim();
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** The image a stage is built on: its own FROM, or, for a stage FROM an earlier one, that stage's. */
export function baseImage(file: Dockerfile, stage: Stage): string {
  const parent = file.stages.find((s) => s.name === stage.from && s !== stage);
  return parent ? baseImage(file, parent) : substitute(stage.from, file.globalArgs);
}

/** `${NAME}` and `$NAME` replaced from `vars`. */
export const substitute = (s: string, vars: Record<string, string>) =>
  s.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? whole);

/** An exec-form (JSON array) ENTRYPOINT or CMD. */
export function execForm(ins: Instruction | undefined): string[] {
  if (!ins) return [];
  const parsed: unknown = JSON.parse(ins.args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`line ${ins.line}: ${ins.keyword} is not in exec form`);
  return parsed;
}

export const last = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).at(-1);

// ---- .dockerignore -------------------------------------------------------------------------

interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else {
        re += '.*';
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** .dockerignore's rules, in order. */
export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, regex: globToRegex(pattern) };
    });
}

/**
 * Whether the build context leaves `path` out: the last rule that matches the path or one of
 * its parent folders decides, as in Docker.
 */
export function isIgnored(rules: IgnoreRule[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (candidates.some((c) => rule.regex.test(c))) ignored = !rule.negate;
  return ignored;
}

/**
 * Copies the repository's files (tracked and untracked, not git-ignored) that .dockerignore
 * lets through into `dest`; returns their paths.
 */
export function makeBuildContext(repo: string, dest: string): string[] {
  const rules = existsSync(join(repo, '.dockerignore')) ? parseDockerignore(readFileSync(join(repo, '.dockerignore'), 'utf8')) : [];
  const kept = repoFiles(repo).filter((p) => !isIgnored(rules, p));
  for (const p of kept) {
    mkdirSync(dirname(join(dest, p)), { recursive: true });
    cpSync(join(repo, p), join(dest, p));
  }
  return kept;
}

// ---- replay ---------------------------------------------------------------------------------

/** What a replayed stage left: its filesystem root and the image config its instructions set. */
export interface ReplayedStage {
  stage: Stage;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
}

const inRoot = (root: string, absolute: string) => join(root, absolute);

function run(command: string, cwd: string, env: Record<string, string>, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) => {
      log(`RUN ${command} → exit ${code}`);
      if (code === 0) resolve();
      else reject(new Error(`RUN ${command} failed with exit ${code}:\n${tail}`));
    });
  });
}

/**
 * Replays every stage in order inside `workspace`: COPY from the context or an earlier stage,
 * RUN through `sh -c` in the stage's WORKDIR with its ENV (and the machine's PATH).
 */
export async function replay(
  file: Dockerfile,
  context: string,
  workspace: string,
  options: { extraEnv?: Record<string, string>; log?: (line: string) => void } = {},
): Promise<ReplayedStage[]> {
  const log = options.log ?? (() => undefined);
  const done: ReplayedStage[] = [];
  for (const stage of file.stages) {
    const root = join(workspace, 'stages', stage.name);
    mkdirSync(root, { recursive: true });
    const state: ReplayedStage = { stage, root, workdir: '/', env: {}, user: undefined };
    // FROM an earlier stage: its filesystem, WORKDIR, ENV and USER carry on.
    const parent = done.find((d) => d.stage.name === stage.from);
    if (parent) {
      cpSync(parent.root, root, { recursive: true, verbatimSymlinks: true });
      Object.assign(state, { workdir: parent.workdir, env: { ...parent.env }, user: parent.user });
    }
    const args: Record<string, string> = { ...file.globalArgs };
    for (const ins of stage.instructions) {
      const vars = { ...args, ...state.env };
      const text = substitute(ins.args, vars);
      switch (ins.keyword) {
        case 'ARG': {
          const [k, v] = text.split('=');
          args[k!.trim()] = v?.trim() ?? args[k!.trim()] ?? '';
          break;
        }
        case 'ENV': {
          for (const m of text.matchAll(/(\w+)=("[^"]*"|\S+)/g)) state.env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
          break;
        }
        case 'WORKDIR':
          state.workdir = posix.resolve(state.workdir, text);
          mkdirSync(inRoot(root, state.workdir), { recursive: true });
          break;
        case 'COPY': {
          const parts = text.split(/\s+/);
          const destRaw = parts.pop()!;
          const dest = posix.resolve(state.workdir, destRaw);
          const fromStage = ins.flags.from ? done.find((d) => d.stage.name === ins.flags.from) : undefined;
          if (ins.flags.from && !fromStage) throw new Error(`line ${ins.line}: COPY --from=${ins.flags.from} names no earlier stage`);
          const sources = parts.map((s) => (fromStage ? inRoot(fromStage.root, posix.resolve(fromStage.workdir, s)) : join(context, s)));
          const destIsDir = destRaw.endsWith('/') || sources.length > 1;
          for (const src of sources) {
            if (!existsSync(src)) throw new Error(`line ${ins.line}: COPY source ${src} does not exist`);
            const target = statSync(src).isDirectory()
              ? inRoot(root, dest)
              : destIsDir ? join(inRoot(root, dest), basename(src)) : inRoot(root, dest);
            mkdirSync(statSync(src).isDirectory() ? target : dirname(target), { recursive: true });
            cpSync(src, target, { recursive: true, verbatimSymlinks: true });
          }
          log(`COPY ${text}`);
          break;
        }
        case 'RUN':
          await run(text, inRoot(root, state.workdir), { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? root, ...state.env, ...options.extraEnv }, log);
          break;
        case 'USER':
          state.user = text;
          break;
        case 'EXPOSE':
        case 'ENTRYPOINT':
        case 'CMD':
        case 'LABEL':
        case 'STOPSIGNAL':
        case 'HEALTHCHECK':
          break;
        default:
          throw new Error(`line ${ins.line}: the replay does not know ${ins.keyword}`);
      }
    }
    done.push(state);
  }
  return done;
}
