// What the acceptance tests know of the system: its nodes by role (so topology (a), one node with
// every role, and topology (b), one role per node, are tested alike), the color under test and the
// load balancer port that reaches it.
//   WINE_CELLAR_COLOR    the color whose app, db and web nodes are checked (default blue)
//   WINE_CELLAR_LB_PORT  the load balancer port (default 80, live traffic; 8080 reaches the staged color)
import { nodes } from '@forklift/expect-run';
import type { NodeRecord } from '@forklift/contract';

export const COLOR = process.env.WINE_CELLAR_COLOR ?? 'blue';
export const LB_PORT = Number(process.env.WINE_CELLAR_LB_PORT ?? 80);

/** Running nodes with a role (and the color under test, for colored roles). */
export function withRole(role: 'lb' | 'zk' | 'files' | 'web' | 'app' | 'db'): NodeRecord[] {
  const colored = role === 'web' || role === 'app' || role === 'db';
  const found = nodes().filter((node) => (node.roles ?? []).includes(role) && (!colored || node.color === COLOR));
  if (found.length === 0) throw new Error(`no node with role ${role}${colored ? ` and color ${COLOR}` : ''} among the node records on stdin`);
  return found;
}

/** One node with the role (the first by id). */
export function oneWith(role: Parameters<typeof withRole>[0]): NodeRecord {
  return withRole(role).sort((a, b) => a.id.localeCompare(b.id))[0]!;
}

/** The base URL of the load balancer for the color under test. */
export function lbUrl(): string {
  return `http://${oneWith('lb').address}:${LB_PORT}`;
}

/** A name no earlier run used: tests add their own rows and find them again. */
export function uniqueName(what: string): string {
  return `${what} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** POST a wine through the load balancer; the stored row. */
export async function addWine(name: string, kind = 'red', year = 2019): Promise<{ id: number; name: string; kind: string; year: number }> {
  const response = await fetch(`${lbUrl()}/api/wines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, kind, year }),
  });
  if (response.status !== 201) throw new Error(`POST /api/wines: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: number; name: string; kind: string; year: number };
}
