import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { shellQuote, type NodeRecord, type PlanUpload } from '@forklift/contract/lite';
import { NodeError } from './node-errors.js';
import type { Transport } from './transport.js';

/** Where nodes keep non-sensitive uploads, by sha256 (root only). */
export const DEFAULT_BLOB_DIR = '/var/lib/forklift/blobs';

// argv: DIR SHA...; prints the shas that are not in the cache yet.
const MISSING_SCRIPT = String.raw`d=$1
shift
if [ -L "$d" ]; then echo "forklift: the blob cache $d is a symbolic link: refusing it" >&2; exit 1; fi
for s in "$@"; do [ -f "$d/$s" ] || echo "$s"; done
`;

// argv: DIR SHA; stdin: the content. Written to a temp file in the cache (root, 0600), checked, renamed.
const STORE_SCRIPT = String.raw`umask 077
d=$1
s=$2
mkdir -p "$d" || exit 1
if [ -L "$d" ] || [ ! -d "$d" ]; then echo "forklift: the blob cache $d is not a plain directory: refusing it" >&2; exit 1; fi
t=$(mktemp "$d/.in.XXXXXX") || exit 1
if ! cat >"$t"; then rm -f "$t"; exit 1; fi
got=$(sha256sum <"$t")
got=${'$'}{got%% *}
if [ "$got" != "$s" ]; then rm -f "$t"; echo "forklift: upload arrived with sha256 $got, expected $s (did the file change after rendering?)" >&2; exit 1; fi
mv -f "$t" "$d/$s"
`;

function asRoot(node: NodeRecord, command: string): string {
  return node.user === 'root' ? command : `sudo -n ${command}`;
}

async function run(
  transport: Transport,
  command: string,
  options: { stdin?: Uint8Array; stdinStream?: NodeJS.ReadableStream; signal?: AbortSignal },
): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
  let stdout = '';
  let stderr = '';
  const result = await transport.exec(command, {
    ...options,
    onStdout: (chunk) => (stdout += chunk.toString()),
    onStderr: (chunk) => (stderr += chunk.toString()),
  });
  return { stdout, stderr, exitCode: result.exitCode };
}

/**
 * Make sure every non-sensitive upload of a plan is in the node's blob cache: one round trip lists the missing
 * ones, then each missing file is streamed over its own channel and checked by sha256 on the node before it
 * is renamed into the cache. Throws NodeError 'upload-failed'.
 * @example await deliverBlobs(node, transport, plan.uploads ?? [], DEFAULT_BLOB_DIR)
 */
export async function deliverBlobs(
  node: NodeRecord,
  transport: Transport,
  uploads: readonly PlanUpload[],
  blobDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const blobs = uploads.filter((upload) => !upload.sensitive);
  if (blobs.length === 0) return;
  const shas = [...new Set(blobs.map((upload) => upload.sha256!))];
  const listed = await run(transport, asRoot(node, `sh -c ${shellQuote(MISSING_SCRIPT)} forklift-blobs ${shellQuote(blobDir)} ${shas.join(' ')}`), { signal });
  if (listed.exitCode !== 0)
    throw new NodeError(
      'upload-failed',
      `node ${node.id}: checking the blob cache failed (exit ${listed.exitCode}): ${listed.stderr.trim().split('\n').pop() ?? ''}`,
    );
  const missing = new Set(listed.stdout.split('\n').filter((line) => shas.includes(line)));
  for (const sha of missing) {
    const upload = blobs.find((candidate) => candidate.sha256 === sha)!;
    await checkSize(node, upload);
    const stored = await run(transport, asRoot(node, `sh -c ${shellQuote(STORE_SCRIPT)} forklift-blob ${shellQuote(blobDir)} ${sha}`), {
      stdinStream: createReadStream(upload.source),
      signal,
    });
    if (stored.exitCode !== 0)
      throw new NodeError(
        'upload-failed',
        `node ${node.id}: upload of ${upload.source} failed (exit ${stored.exitCode}): ${stored.stderr.trim().split('\n').pop() ?? ''}`,
      );
  }
}

async function checkSize(node: NodeRecord, upload: PlanUpload): Promise<void> {
  let size: number;
  try {
    size = (await stat(upload.source)).size;
  } catch (error) {
    throw new NodeError('upload-failed', `node ${node.id}: cannot read upload ${upload.source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
  if (size !== upload.bytes)
    throw new NodeError(
      'upload-failed',
      `node ${node.id}: upload ${upload.source} is ${size} bytes, the plan says ${upload.bytes} (changed after rendering? render again)`,
    );
}

/**
 * Read the sensitive uploads of a plan (they go to the node on the phase script's stdin, per run).
 * Throws NodeError 'upload-failed' when one is missing or changed size since rendering.
 */
export async function readSensitiveUploads(node: NodeRecord, uploads: readonly PlanUpload[]): Promise<Array<{ name: string; bytes: Buffer }>> {
  const out: Array<{ name: string; bytes: Buffer }> = [];
  for (const upload of uploads) {
    if (!upload.sensitive) continue;
    let bytes: Buffer;
    try {
      bytes = await readFile(upload.source);
    } catch (error) {
      throw new NodeError('upload-failed', `node ${node.id}: cannot read upload ${upload.source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        cause: error,
      });
    }
    if (bytes.length !== upload.bytes)
      throw new NodeError(
        'upload-failed',
        `node ${node.id}: upload ${upload.source} is ${bytes.length} bytes, the plan says ${upload.bytes} (changed after rendering? render again)`,
      );
    out.push({ name: upload.name, bytes });
  }
  return out;
}
