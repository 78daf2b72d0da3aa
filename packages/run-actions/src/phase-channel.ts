import { PassThrough } from 'node:stream';
import type { NodeRecord } from '@forklift/contract/lite';
import { parsePreflight } from './facts.js';
import { NodeError } from './node-errors.js';
import { FACTS_END, isSudoRefusal, NOTHING_TO_RUN, remoteCommand, sudoMessage } from './remote-command.js';
import type { ExecResult, Transport } from './transport.js';

/** Where a started channel's output goes. */
export interface ChannelOutput {
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

/**
 * One exec channel running the remote wrapper, opened before its script is known: with `facts`, the node's OS
 * facts arrive first on it (the first phase of a node gathers them in the same round trip), and the script is sent
 * once the caller has it (after rendering). `start` sends the wrapper's stdin, `skip` tells it there is nothing to
 * run; `done` settles when the channel closed.
 */
export interface PhaseChannel {
  /** The facts' KEY=VALUE values (only with `facts`); rejects with a NodeError when the channel ended before them. */
  readonly facts: Promise<Record<string, string>>;
  /** The exit of the wrapper (never rejects: a transport error is `{ exitCode: null, signal: 'ERROR' }`). */
  readonly done: Promise<ExecResult & { error?: Error }>;
  /** Up to 4 KiB of the channel's raw stderr (sudo's complaints). */
  readonly rawStderr: string;
  /** Send the wrapper's stdin (its header, the script, the uploads: `wrapperInput`) and route the output. */
  start(input: Buffer, output: ChannelOutput): void;
  /** Nothing to run on this node: the wrapper exits 0. */
  skip(): void;
  /** End the channel: stdin reaches EOF (the wrapper kills what it runs), the channel closes 2 s later. */
  abort(): void;
}

/**
 * Open a phase channel on a node's transport (`sudo -n` for a non-root login). Aborting `signal` ends it: stdin
 * reaches EOF, and the wrapper kills whatever it runs (as `abort()` does).
 * @example const channel = openPhaseChannel(node, transport, { facts: true, signal }); const values = await channel.facts
 */
export function openPhaseChannel(node: NodeRecord, transport: Transport, options: { facts?: boolean; signal?: AbortSignal } = {}): PhaseChannel {
  const stdin = new PassThrough();
  const controller = new AbortController();
  const abort = (): void => controller.abort(options.signal?.reason ?? 'aborted');
  if (options.signal?.aborted) abort();
  else options.signal?.addEventListener('abort', abort, { once: true });
  let output: ChannelOutput | undefined;
  const early: Array<['out' | 'err', Buffer]> = [];
  let rawStderr = '';
  let closed = false;
  let factsText = options.facts ? '' : undefined;
  let resolveFacts!: (values: Record<string, string>) => void;
  let rejectFacts!: (error: unknown) => void;
  const facts = new Promise<Record<string, string>>((resolve, reject) => {
    resolveFacts = resolve;
    rejectFacts = reject;
  });
  // a caller that never asks for the facts must not see an unhandled rejection
  facts.catch(() => undefined);
  if (!options.facts) resolveFacts({});

  const deliver = (stream: 'out' | 'err', chunk: Buffer): void => {
    if (!output) early.push([stream, chunk]);
    else if (stream === 'out') output.onStdout(chunk);
    else output.onStderr(chunk);
  };
  const onStdout = (chunk: Buffer): void => {
    if (factsText === undefined) return deliver('out', chunk);
    // the facts come before anything the script can print: everything up to the end line is the wrapper's own
    factsText += chunk.toString('latin1');
    const at = factsText.startsWith(`${FACTS_END}\n`) ? 0 : factsText.indexOf(`\n${FACTS_END}\n`);
    if (at === -1) {
      if (factsText.length > 64 * 1024) factsText = factsText.slice(-1024);
      return;
    }
    const end = at === 0 ? FACTS_END.length + 1 : at + FACTS_END.length + 2;
    const rest = Buffer.from(factsText.slice(end), 'latin1');
    const values = parsePreflight(Buffer.from(factsText.slice(0, at), 'latin1').toString('utf8'));
    factsText = undefined;
    resolveFacts(values);
    if (rest.length) deliver('out', rest);
  };
  const onStderr = (chunk: Buffer): void => {
    if (rawStderr.length < 4096) rawStderr += chunk.toString();
    deliver('err', chunk);
  };

  const done = transport
    .exec(remoteCommand({ sudo: node.user !== 'root', facts: options.facts }), {
      stdinStream: stdin,
      holdStdin: true,
      signal: controller.signal,
      onStdout,
      onStderr,
    })
    .catch((error: Error) => ({ exitCode: null, signal: 'ERROR', error }))
    .then((result: ExecResult & { error?: Error }) => {
      closed = true;
      options.signal?.removeEventListener('abort', abort);
      if (factsText !== undefined) {
        factsText = undefined;
        if (controller.signal.aborted) rejectFacts(new NodeError('interrupted', `node ${node.id}: interrupted while gathering facts`));
        else if (node.user !== 'root' && isSudoRefusal(rawStderr)) rejectFacts(new NodeError('sudo-password', sudoMessage(node.id, node.user, rawStderr)));
        else {
          const how = result.error ? result.error.message : `exit ${result.exitCode ?? result.signal}`;
          rejectFacts(new NodeError('preflight-failed', `node ${node.id}: gathering facts failed (${how}): ${rawStderr.trim().split('\n').pop() ?? ''}`));
        }
      }
      return result;
    });

  return {
    facts,
    done,
    get rawStderr() {
      return rawStderr;
    },
    start(input, target) {
      output = target;
      for (const [stream, chunk] of early.splice(0)) deliver(stream, chunk);
      if (!closed) stdin.write(input);
    },
    skip() {
      if (!closed) stdin.write(NOTHING_TO_RUN);
    },
    abort,
  };
}
