// The wine list in MariaDB: a small pool, the schema created when first needed (so the app starts
// while the database is still down and /healthz says so), every query bounded in time.
import { createPool, type Pool } from 'mariadb';
import type { WineStore } from './ports.js';
import { withTimeout } from './timeout.js';
import type { Kind, NewWine, Wine } from './wines.js';

export interface DbOptions {
  host: string;
  port: number;
  user: string;
  database: string;
  password: string;
}

export const SCHEMA = `CREATE TABLE IF NOT EXISTS wines (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  kind VARCHAR(20) NOT NULL,
  year SMALLINT UNSIGNED NOT NULL,
  label VARCHAR(255) NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

const QUERY_TIMEOUT_MS = 3000;

interface Row {
  id: number;
  name: string;
  kind: string;
  year: number;
  label: string | null;
}

function toWine(row: Row): Wine {
  const wine: Wine = { id: Number(row.id), name: row.name, kind: row.kind as Kind, year: Number(row.year) };
  if (row.label) wine.label = row.label;
  return wine;
}

/** A MariaDB-backed store, plus `close()` and `ensureSchema()`. */
export function mariadbStore(options: DbOptions): WineStore & { close(): Promise<void>; ensureSchema(): Promise<void> } {
  const pool: Pool = createPool({
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    database: options.database,
    connectionLimit: 5,
    minimumIdle: 1,
    acquireTimeout: QUERY_TIMEOUT_MS,
    connectTimeout: 2000,
    initializationTimeout: 2000,
    insertIdAsNumber: true,
    charset: 'utf8mb4',
  });
  let schema: Promise<void> | undefined;

  const query = <T>(sql: string, values?: unknown[], limitMs = QUERY_TIMEOUT_MS + 500): Promise<T> =>
    withTimeout(pool.query({ sql, timeout: QUERY_TIMEOUT_MS }, values) as Promise<T>, limitMs, 'MariaDB').catch((error: Error) => {
      // the connector's messages span lines; one line is enough for logs and /healthz
      throw new Error(error.message.split('\n')[0]!.trim(), { cause: error });
    });

  function ensureSchema(): Promise<void> {
    schema ??= query<unknown>(SCHEMA).then(
      () => undefined,
      (error: unknown) => {
        schema = undefined;
        throw error;
      },
    );
    return schema;
  }

  return {
    ensureSchema,
    async list() {
      await ensureSchema();
      const rows = await query<Row[]>('SELECT id, name, kind, year, label FROM wines ORDER BY id');
      return rows.map(toWine);
    },
    async add(wine: NewWine) {
      await ensureSchema();
      const result = await query<{ insertId: number }>('INSERT INTO wines (name, kind, year) VALUES (?, ?, ?)', [wine.name, wine.kind, wine.year]);
      return { id: Number(result.insertId), ...wine };
    },
    async get(id: number) {
      await ensureSchema();
      const rows = await query<Row[]>('SELECT id, name, kind, year, label FROM wines WHERE id = ?', [id]);
      return rows[0] ? toWine(rows[0]) : undefined;
    },
    async setLabel(id: number, label: string) {
      await ensureSchema();
      const result = await query<{ affectedRows: number }>('UPDATE wines SET label = ? WHERE id = ?', [label, id]);
      return result.affectedRows > 0;
    },
    async ping() {
      // /healthz answers within ~1.5 s, before a load balancer's check gives up
      await query<unknown>('SELECT 1', [], 1500);
    },
    async close() {
      await pool.end();
    },
  };
}
