// MariaDB of one color: database winecellar, the app's user (password from secrets/, out of band),
// GTID replication with the other color's server — blue starts as the primary, green as its replica
// (the release flows swap them with the crate's promote and demote phases).
import { mariadb } from '@forklift/crates';
import type { Color } from './tiers.js';

export const dbServer = (color: Color) =>
  mariadb({
    databases: ['winecellar'],
    users: [{ name: 'winecellar', passwordFrom: 'secrets/db-password', grants: [{ database: 'winecellar' }] }],
    replication: {
      role: color === 'blue' ? 'primary' : 'replica',
      peer: { role: 'db', color: color === 'blue' ? 'green' : 'blue' },
      passwordFrom: 'secrets/replication-password',
    },
  });
