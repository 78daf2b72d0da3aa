import type { NodeRecord } from '@forklift/contract/lite';
import type PQueue from 'p-queue';
import { preflight, withFacts } from './facts.js';
import { openPhaseChannel, type PhaseChannel } from './phase-channel.js';
import type { Transport, TransportFactory } from './transport.js';

/** What connecting the nodes left: per node id its transport, the channel that gathered its facts, its updated record; the failures. */
export interface Connections {
  transports: Map<string, Transport>;
  channels: Map<string, PhaseChannel>;
  current: Map<string, NodeRecord>;
  errors: Array<[NodeRecord, unknown]>;
}

/** Empty connections, for connectNodes to fill (the caller closes what is in them, even when a run is cut short). */
export function noConnections(): Connections {
  return { transports: new Map(), channels: new Map(), current: new Map(), errors: [] };
}

/** Options of connectNodes. */
export interface ConnectNodesOptions {
  open: TransportFactory;
  signal: AbortSignal;
  queue: PQueue;
  /**
   * Gather the facts on the channel that will run the first phase (every node starts it at once): the
   * wrapper prints them, then waits for its script. Otherwise a preflight command of its own.
   */
  merged: boolean;
  /** Bounds the facts' wait, like one phase's script. */
  timeoutMs?: number;
  /** A node whose record learned its OS facts. */
  onNode?(node: NodeRecord): void;
  /** After each node's attempt, with the failures so far. */
  onDone(failed: number): void;
}

async function connectNode(node: NodeRecord, into: Connections, options: ConnectNodesOptions): Promise<void> {
  const { signal } = options;
  let transport: Transport | undefined;
  let channel: PhaseChannel | undefined;
  try {
    transport = await options.open(node, signal);
    const timeout = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const factsSignal = timeout ? AbortSignal.any([signal, timeout]) : signal;
    let updated: NodeRecord;
    if (options.merged) {
      channel = openPhaseChannel(node, transport, { facts: true, signal });
      const stopFacts = (): void => channel!.abort();
      factsSignal.addEventListener('abort', stopFacts, { once: true });
      try {
        updated = withFacts(node, await channel.facts);
      } finally {
        factsSignal.removeEventListener('abort', stopFacts);
      }
      into.channels.set(node.id, channel);
    } else {
      updated = await preflight(node, transport, factsSignal);
    }
    into.transports.set(node.id, transport);
    into.current.set(node.id, updated);
    if (updated !== node) options.onNode?.(updated);
  } catch (error) {
    channel?.abort();
    await transport?.close().catch(() => undefined);
    if (!signal.aborted) into.errors.push([node, error]);
  }
}

/**
 * One connection per node (at most the queue's concurrency at once), its OS facts gathered on it before
 * anything is written. A node that cannot be reached is an entry in `errors`, never an exception.
 */
export async function connectNodes(nodes: readonly NodeRecord[], into: Connections, options: ConnectNodesOptions): Promise<void> {
  await options.queue.addAll(
    nodes.map((node) => async () => {
      if (options.signal.aborted) return;
      try {
        await connectNode(node, into, options);
      } finally {
        options.onDone(into.errors.length);
      }
    }),
  );
}
