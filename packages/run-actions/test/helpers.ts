import { createHash } from 'node:crypto';
import type { NodeRecord, PlanRecord } from '@forklift/contract';

/** One hand-written action block of a test plan: `changed` in its body marks it changed. */
export interface TestBlock {
  id: string;
  body: string;
  label?: string;
}

/**
 * A phase script that follows the marker protocol of DEVELOPING.md (like render-crate's output, written by
 * hand so these tests control exactly what runs): each block's output captured and sent framed after it.
 */
export function testScript(blocks: readonly TestBlock[]): string {
  const head = [
    'set -eu',
    ': "${fl_nonce:?the nonce comes before the script on stdin}"',
    'if [ -z "${fl_tmp:-}" ]; then fl_tmp=$(mktemp -d); trap \'rm -rf "$fl_tmp"\' EXIT; fi',
    "trap 'exit 143' TERM",
    "trap 'exit 130' INT",
    `fl_mark() { printf '::forklift:%s:%s:%s\\n' "$fl_nonce" "$1" "$2"; }`,
    `fl_emit() { if [ -s "$fl_tmp/$2" ]; then fl_mark "$1" "$3"; sed 's/^/|/' "$fl_tmp/$2"; printf '\\n'; fi; }`,
  ];
  const body = blocks.map((block) =>
    [
      `fl_mark ${block.id} begin`,
      'set +e',
      `( unset fl_nonce; set -e; changed() { : >"$fl_tmp/changed.${block.id}"; }`,
      block.body,
      ') </dev/null >"$fl_tmp/o" 2>"$fl_tmp/e"',
      'fl_rc=$?',
      'set -e',
      `fl_emit ${block.id} o stdout; fl_emit ${block.id} e stderr`,
      `fl_mark ${block.id} exit:$fl_rc`,
      `if [ $fl_rc -ne 0 ]; then fl_s=failed; elif [ -e "$fl_tmp/changed.${block.id}" ]; then fl_s=changed; else fl_s=ok; fi`,
      `fl_mark ${block.id} $fl_s`,
      'if [ $fl_rc -ne 0 ]; then exit $fl_rc; fi',
    ].join('\n'),
  );
  return [...head, ...body, 'exit 0', ''].join('\n');
}

/** A plan record for a node and phase from hand-written blocks. */
export function testPlan(node: NodeRecord | string, phase: string, blocks: readonly TestBlock[], mode: 'apply' | 'plan' = 'apply'): PlanRecord {
  const script = testScript(blocks);
  return {
    v: 1,
    kind: 'plan',
    node: typeof node === 'string' ? node : node.id,
    phase,
    script,
    actions: blocks.map((block) => ({ id: block.id, action: 'exec', label: block.label ?? block.id })),
    sha256: createHash('sha256').update(script).digest('hex'),
    mode,
  } as PlanRecord;
}

/** Records of one kind from a list of records. */
export function ofKind(records: ReadonlyArray<Record<string, unknown>>, kind: string): Array<Record<string, any>> {
  return records.filter((record) => record.kind === kind) as Array<Record<string, any>>;
}

/** PIDs of live processes whose command line contains `token` (read from /proc). */
export async function processesWith(token: string): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmdline.includes(token)) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** Wait until `check` is true (polling), or fail after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
