import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Absolute path of the committed forklift-cat shim. */
export const catBin = fileURLToPath(new URL('../bin/forklift-cat.js', import.meta.url));

/** A valid node record line. */
export const nodeLine = JSON.stringify({
  v: 1,
  kind: 'node',
  id: 'web-1',
  group: 'web',
  service: 'local',
  provider: 'nspawn',
  address: '10.0.0.2',
  port: 22,
  user: 'root',
  state: 'running',
});

/** Run forklift-cat (a real binary built on the CLI helper) with stdin bytes. */
export function runCat(stdin: Buffer | string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [catBin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });
}
