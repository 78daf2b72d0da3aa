import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directories of forklift's own code (this package's build, the libraries it runs on): dropped from stack traces. */
const OWN_DIRS = [
  ...codeDirs(dirname(dirname(fileURLToPath(import.meta.url)))),
  ...['@forklift/contract', '@forklift/run-actions', '@forklift/browser-drive'].flatMap(packageDirs),
];

function codeDirs(root: string): string[] {
  return [join(root, 'dist') + sep, join(root, 'src') + sep];
}

function packageDirs(name: string): string[] {
  try {
    return codeDirs(dirname(dirname(fileURLToPath(import.meta.resolve(name)))));
  } catch {
    return [];
  }
}

/** One frame of a V8 stack trace: the function (when named) and the file position. */
export interface Frame {
  fn?: string;
  file: string;
  line: number;
  column: number;
}

const FRAME = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/;

function normalizeFile(raw: string): string {
  let file = raw.startsWith('async ') ? raw.slice(6) : raw;
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file.replace(/\?.*$/, ''));
    } catch {
      // keep it as it was
    }
  }
  return file.replace(/\?[^:]*$/, '');
}

/** The frames of a stack trace text, in order. */
export function parseStack(stack: string | undefined): Frame[] {
  if (!stack) return [];
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (!match) continue;
    frames.push({ fn: match[1], file: normalizeFile(match[2]!), line: Number(match[3]), column: Number(match[4]) });
  }
  return frames;
}

/** Whether a frame belongs to the user (not node internals, node_modules or forklift's own code). */
export function isUserFrame(frame: Frame): boolean {
  const file = frame.file;
  if (file.startsWith('node:') || file.startsWith('internal/') || file.startsWith('data:') || !file.includes('/')) return false;
  if (file.includes(`${sep}node_modules${sep}`)) return false;
  if (OWN_DIRS.some((dir) => file.startsWith(dir))) return false;
  return true;
}

/** A file position relative to `cwd`: `test/web.expect.ts:12:3`. */
export function formatFrame(frame: Frame, cwd: string): string {
  const path = relative(cwd, frame.file) || frame.file;
  return `${path.startsWith('..') ? frame.file : path}:${frame.line}:${frame.column}`;
}

/**
 * The user's frames of a stack trace (node internals, node_modules and forklift dropped), as
 * `file:line:col` relative to `cwd`; the first one is the line in the test file.
 * @example userFrames(error.stack, process.cwd())[0] // 'test/web.expect.ts:12:3'
 */
export function userFrames(stack: string | undefined, cwd: string): string[] {
  return parseStack(stack)
    .filter(isUserFrame)
    .map((frame) => formatFrame(frame, cwd));
}

/** The first user frame that lies in `file` (a test file), else the first user frame at all. */
export function locationIn(stack: string | undefined, file: string | undefined, cwd: string): string | undefined {
  const frames = parseStack(stack).filter(isUserFrame);
  const inFile = file ? frames.find((frame) => frame.file === file) : undefined;
  const frame = inFile ?? frames[0];
  return frame ? formatFrame(frame, cwd) : undefined;
}

/** A stack trace cut to the user's frames, starting with `header`. */
export function trimStack(header: string, stack: string | undefined, cwd: string): string {
  return [header, ...userFrames(stack, cwd).map((where) => `    at ${where}`)].join('\n');
}
