// Destroying lxd nodes: wait for operations a killed run left, force-stop, delete, retry while busy.
import { setTimeout as sleep } from 'node:timers/promises';
import { LxdApiError, type LxdClient } from './lxd-api.js';

/** Wait for the cluster's running operations on an instance (a create a killed provision-node left running). */
async function settle(api: LxdClient, name: string): Promise<void> {
  const operations = await api
    .get<Record<string, { id: string; resources?: Record<string, string[]> | null }[]>>('/1.0/operations', { query: { recursion: '1' } })
    .catch(() => ({}));
  const mine = Object.values(operations)
    .flat()
    .filter((operation) =>
      Object.values(operation.resources ?? {})
        .flat()
        .some((url) => url.split('?')[0]!.endsWith(`/instances/${name}`)),
    );
  for (const operation of mine) await api.wait(`/1.0/operations/${operation.id}`, { timeoutMs: 300_000 }).catch(() => undefined);
}

/** Run an instance request again while LXD says the instance is busy with another operation of its own (a failed start stops it). */
async function whenIdle<T>(request: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof LxdApiError && /busy/i.test(error.apiMessage)) || Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

/** Stop (forced) and delete one instance and wait until it is gone; a missing one is fine. */
async function deleteInstance(api: LxdClient, name: string): Promise<void> {
  await settle(api, name);
  let status: string;
  try {
    status = (await api.get<{ status: string }>(`/1.0/instances/${name}`)).status;
  } catch (error) {
    if (error instanceof LxdApiError && error.status === 404) return;
    throw error;
  }
  if (status !== 'Stopped') {
    await whenIdle(() => api.call('PUT', `/1.0/instances/${name}/state`, { body: { action: 'stop', force: true, timeout: -1 }, timeoutMs: 120_000 })).catch(
      (error: unknown) => {
        if (!(error instanceof LxdApiError && /already stopped|not running/i.test(error.apiMessage))) throw error;
      },
    );
  }
  try {
    await whenIdle(() => api.call('DELETE', `/1.0/instances/${name}`, { timeoutMs: 300_000 }));
  } catch (error) {
    if (!(error instanceof LxdApiError && error.status === 404)) throw error;
  }
}

export async function destroyAll(api: LxdClient, nodes: { id: string; instance: string }[]): Promise<void> {
  const results = await Promise.allSettled(nodes.map((node) => deleteInstance(api, node.instance)));
  const failed = results.flatMap((result, index) => (result.status === 'rejected' ? [`${nodes[index]!.id}: ${(result.reason as Error).message}`] : []));
  if (failed.length) throw new Error(`could not destroy ${failed.join('; ')}`);
}
