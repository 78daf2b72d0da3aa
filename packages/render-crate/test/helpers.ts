// In-process CLI runs of render-crate through the contract's main(), with real streams.
import { main } from '@forklift/contract';
import { PassThrough, Readable } from 'node:stream';
import { join } from 'node:path';
import { renderCrateTool } from '../src/index.js';

/** The shared spec fixtures (fixtures/specs at the repository root). */
export const SPECS = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'specs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  records: Array<Record<string, unknown>>;
}

/** Run render-crate with argv; `stdin` undefined means a terminal (no input). */
export async function runCli(argv: string[], stdin?: string, cwd = SPECS): Promise<CliRun> {
  const input = stdin === undefined ? Object.assign(Readable.from([]), { isTTY: true }) : Readable.from([Buffer.from(stdin)]);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const code = await main(renderCrateTool, argv, { stdin: input, stdout, stderr, env: {}, cwd });
  return {
    code,
    stdout: out,
    stderr: err,
    records: out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A node record line. */
export function nodeLine(id: string, group: string, os?: { family: string; release: string }): string {
  return `${JSON.stringify({ v: 1, kind: 'node', id, group, service: 'local', provider: 'nspawn', address: '10.0.0.2', port: 22, user: 'root', state: 'running', ...(os ? { os } : {}) })}\n`;
}
