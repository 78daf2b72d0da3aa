// Real nodes for crate tests: local (nspawn) nodes in ONE forklift home shared by every crate test file, so
// every package the crates install comes through one apt-cacher-ng and one cache (a package fetched by the
// first test is served locally to all the others, in this run and the next), and the nodes of one file are
// provisioned once and shared by its cases.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { provisionNodes } from '@forklift/provision-node';
import type { NodeSpec } from '@forklift/spec';
import { runBinary, sshOnNode, toNdjson, type BinaryResult } from '@forklift/testkit';

/**
 * The forklift home of crate tests: `$FORKLIFT_CRATES_TEST_HOME`, default `/var/cache/forklift/crates-test-home`.
 * It keeps its apt cache (`network/apt-proxy/cache`) between runs; nodes, bridge and apt proxy go with the last node.
 */
export const CRATES_TEST_HOME = process.env.FORKLIFT_CRATES_TEST_HOME || '/var/cache/forklift/crates-test-home';

/** The rootfs cache every test shares. */
export const IMAGE_CACHE = process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images';

/** The env for forklift binaries run against the crate test home. */
export const testEnv: Record<string, string | undefined> = { ...process.env, FORKLIFT_HOME: CRATES_TEST_HOME, FORKLIFT_IMAGE_CACHE: IMAGE_CACHE };

/** The minimal tap surface the helpers need. */
interface Teardowns {
  teardown(fn: () => unknown): void;
}

/** What a group of test nodes looks like. */
export interface TestGroup {
  /** Group name, unique among the crate test files (they may run at the same time). */
  group: string;
  count: number;
  /** Roles written into the node records (`role` selection of crates). */
  roles?: string[];
  /** Color written into the node records. */
  color?: string;
  /** Node spec for provision-node (features such as a syscall filter). */
  spec?: NodeSpec;
}

/**
 * Provision a group of local nodes in the shared crate test home, torn down (count 0) when `t` ends, even
 * after a failure. Roles and color go into the node records (as a group spec's would).
 * @example const [zk] = await testNodes(t, { group: 'crate-zk', count: 1, roles: ['zk'] })
 */
export async function testNodes(t: Teardowns, group: TestGroup): Promise<NodeRecord[]> {
  mkdirSync(CRATES_TEST_HOME, { recursive: true });
  const down = () => provisionNodes({ service: 'local', count: 0, group: group.group, home: CRATES_TEST_HOME, env: testEnv, log: () => undefined });
  t.teardown(async () => {
    await down().catch((error: unknown) => process.stderr.write(`teardown of ${group.group}: ${(error as Error).message}\n`));
  });
  return provisionNodes({
    service: 'local',
    count: group.count,
    group: group.group,
    home: CRATES_TEST_HOME,
    env: testEnv,
    nodeSpec: group.spec,
    roles: group.roles,
    color: group.color,
    log: (line) => process.stderr.write(`provision-node: ${line}\n`),
  });
}

/** A run of a forklift binary with its records split by kind. */
export interface Run extends BinaryResult {
  results: Array<Record<string, unknown>>;
  changed: Array<Record<string, unknown>>;
  summary: Record<string, unknown> | undefined;
}

/**
 * `run-actions SPEC [args]` with the node records on stdin, from `cwd` (the spec's project).
 * @example const first = await converge('groups/zk', nodes, { cwd: FIXTURES })
 */
export async function converge(spec: string, nodes: readonly NodeRecord[], options: { cwd: string; args?: string[]; timeoutMs?: number }): Promise<Run> {
  const result = await runBinary('run-actions', [spec, ...(options.args ?? [])], {
    stdin: toNdjson(nodes as never),
    cwd: options.cwd,
    env: testEnv,
    timeoutMs: options.timeoutMs ?? 580_000,
  });
  const results = result.records.filter((record) => record.kind === 'result');
  return {
    ...result,
    results,
    changed: results.filter((record) => record.status === 'changed'),
    summary: result.records.find((record) => record.kind === 'summary'),
  };
}

/** How long each package action of a run took (the apt work: what the shared apt cache saves), for t.comment. */
export function packageTimes(run: Run): string {
  return run.results
    .filter((record) => String(record.label).startsWith('package '))
    .map((record) => `${String(record.node)} ${String(record.label)} ${String(record.status)} ${(Number(record.durationMs) / 1000).toFixed(1)} s`)
    .join('; ');
}

/** What one converge did, in one line for assertion messages. */
export function describeRun(run: Run): string {
  const failed = run.results
    .filter((record) => record.status === 'failed')
    .map((record) => `${String(record.node)} ${String(record.label)}: ${String(record.stderr).slice(-800)}`);
  const errors = run.records.filter((record) => record.kind === 'error').map((record) => String(record.message));
  return [`exit ${run.exitCode}`, ...failed, ...errors, run.stderr.slice(-1500)].join('\n');
}

/**
 * Run a shell command on a node with OpenSSH, trusting only the host key pinned in its record; stdout.
 * @example await onNode(node, 'echo ruok | nc -q1 127.0.0.1 2181')
 */
export async function onNode(node: NodeRecord, command: string, options: { timeoutMs?: number } = {}): Promise<string> {
  return sshOnNode(node, command, { knownHostsDir: join(CRATES_TEST_HOME, 'known-hosts'), timeoutMs: options.timeoutMs });
}
