// The app's configuration: one JSON file at $WINE_CELLAR_CONFIG (default /etc/wine-cellar/config.json).
import { readFile } from 'node:fs/promises';

export const DEFAULT_CONFIG_PATH = '/etc/wine-cellar/config.json';

export interface AppConfig {
  port: number;
  host: string;
  color: string;
  db: { host: string; port: number; user: string; database: string; passwordFile: string };
  zookeeper: { connect: string; configNode: string };
  labels: { dir: string };
}

/** A configuration file that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Raw = Record<string, unknown>;

function section(raw: Raw, key: string, where: string): Raw {
  const value = raw[key];
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${where}: ${key}: must be an object`);
  }
  return value as Raw;
}

function text(raw: Raw, key: string, where: string, fallback?: string): string {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(`${where}: ${key}: ${value === undefined ? 'missing' : 'must be a non-empty string'}`);
  }
  return value;
}

function port(raw: Raw, key: string, where: string, fallback: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(`${where}: ${key}: must be a port number (1-65535)`);
  }
  return value;
}

/** Validates a parsed configuration object, filling defaults: `parseConfig({ db: {...}, zookeeper: {...} }, 'config.json')`. */
export function parseConfig(input: unknown, file: string): AppConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(`${file}: must be a JSON object`);
  }
  const raw = input as Raw;
  const db = section(raw, 'db', file);
  const zk = section(raw, 'zookeeper', file);
  const labels = section(raw, 'labels', file);
  const configNode = text(zk, 'configNode', `${file}: zookeeper`, '/wine-cellar/config');
  if (!configNode.startsWith('/')) throw new ConfigError(`${file}: zookeeper: configNode: must start with /`);
  const labelsDir = text(labels, 'dir', `${file}: labels`, '/mnt/files/labels');
  if (!labelsDir.startsWith('/')) throw new ConfigError(`${file}: labels: dir: must be an absolute path`);
  return {
    port: port(raw, 'port', file, 3000),
    host: text(raw, 'host', file, '0.0.0.0'),
    color: text(raw, 'color', file, 'blue'),
    db: {
      host: text(db, 'host', `${file}: db`),
      port: port(db, 'port', `${file}: db`, 3306),
      user: text(db, 'user', `${file}: db`, 'winecellar'),
      database: text(db, 'database', `${file}: db`, 'winecellar'),
      passwordFile: text(db, 'passwordFile', `${file}: db`, '/etc/wine-cellar/db-password'),
    },
    zookeeper: { connect: text(zk, 'connect', `${file}: zookeeper`), configNode },
    labels: { dir: labelsDir },
  };
}

/** Reads and validates the configuration file. */
export async function loadConfig(file: string): Promise<AppConfig> {
  let body: string;
  try {
    body = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new ConfigError(`${file}: not JSON: ${(error as Error).message}`);
  }
  return parseConfig(parsed, file);
}

/** The database password: the first line of the password file, without its newline. */
export async function readPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n')[0] ?? '';
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the database password: ${(error as Error).message}`);
  }
}
