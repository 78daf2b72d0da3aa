// Real systemd nodes (provision-node's `local` service: nspawn) for the security tests, and a way to run
// commands on them (as root or as an unprivileged node user) over their own SSH connection.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { shellQuote, type NodeRecord } from '@forklift/contract';
import { sshTransport } from '../src/index.js';

const execFileAsync = promisify(execFile);
export const repo = fileURLToPath(new URL('../../../', import.meta.url));
export const provisionBin = join(repo, 'packages/provision-node/bin/provision-node.js');
export const renderCrateBin = join(repo, 'packages/render-crate/bin/render-crate.js');
export const runActionsBin = join(repo, 'packages/run-actions/bin/run-actions.js');

/** What a test needs of tap. */
interface TestLike {
  teardown(fn: () => unknown): void;
  setTimeout(ms: number): void;
}

/** Provisioned nodes of one test file, torn down (with their FORKLIFT_HOME) when it ends. */
export interface LocalNodes {
  nodes: NodeRecord[];
  /** Environment for the bins: FORKLIFT_HOME of these nodes. */
  env: NodeJS.ProcessEnv;
}

/** Provision `count` nspawn nodes in a group of their own (a fresh FORKLIFT_HOME), removed in teardown. */
export async function localNodes(t: TestLike, group: string, count = 1): Promise<LocalNodes> {
  t.setTimeout(25 * 60 * 1000); // a fresh machine builds the rootfs first
  const home = mkdtempSync(join(tmpdir(), `fl-${group}-`));
  const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images' };
  t.teardown(async () => {
    await execFileAsync(process.execPath, [provisionBin, 'local', '0', '--group', group], { env, cwd: repo }).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  });
  const { stdout } = await execFileAsync(process.execPath, [provisionBin, 'local', String(count), '--group', group], { env, cwd: repo, maxBuffer: 64 << 20 });
  const nodes = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.kind === 'node') as NodeRecord[];
  if (nodes.length !== count) throw new Error(`provision-node gave ${nodes.length} nodes, wanted ${count}`);
  return { nodes, env };
}

/** Run a shell command on a node as root (or, with `as`, as that unprivileged user via runuser); throws unless it exits 0. */
export async function onNode(
  node: NodeRecord,
  command: string,
  options: { as?: string; stdin?: string; allowFail?: boolean } = {},
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const transport = await sshTransport(node, { tries: 3 });
  try {
    let stdout = '';
    let stderr = '';
    const line = options.as ? `runuser -u ${shellQuote(options.as)} -- sh -c ${shellQuote(command)}` : command;
    const result = await transport.exec(line, { stdin: options.stdin, onStdout: (c) => (stdout += c.toString()), onStderr: (c) => (stderr += c.toString()) });
    if (result.exitCode !== 0 && !options.allowFail) throw new Error(`on ${node.id}: ${command}: exit ${result.exitCode}: ${stderr.trim()}`);
    return { stdout, stderr, code: result.exitCode };
  } finally {
    await transport.close();
  }
}

/** Run a bin (node script) with stdin text; its exit code, stdout and stderr. */
export function runBin(
  bin: string,
  args: string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? repo, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** NDJSON lines of records. */
export function ndjson(records: readonly object[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

/** Parse a bin's stdout into records. */
export function parseRecords(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}
