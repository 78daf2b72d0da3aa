// The colored tiers of topology (b) as group specs, one function per tier, so groups/blue-*.ts and
// groups/green-*.ts differ only in their color (CONTRACTS: groups C-web, C-app, C-db; roles web, app, db).
import { groupSpec } from '@forklift/render-crate';
import debian12, { fileClientNode } from '../nodes/debian-12.js';
import { dbServer } from './db.js';

export type Color = 'blue' | 'green';

/** nginx in front of the color's app servers, with the shared file store mounted for /labels/. */
export const webGroup = (color: Color) =>
  groupSpec({ group: `${color}-web`, count: 1, color, roles: ['web'], node: fileClientNode, extends: ['servers/files-client', 'servers/web'] });

/** Two wine-cellar app servers, with the shared file store mounted for the labels they write. */
export const appGroup = (color: Color) =>
  groupSpec({ group: `${color}-app`, count: 2, color, roles: ['app'], node: fileClientNode, extends: ['servers/files-client', 'servers/app'] });

/** The color's MariaDB (the staged color's replicates from the live one's). */
export const dbGroup = (color: Color) => groupSpec({ group: `${color}-db`, count: 1, color, roles: ['db'], node: debian12, extends: [dbServer(color)] });
