// What the HTTP layer needs from the outside world; main.ts wires the real MariaDB, ZooKeeper and file
// store in, the tests pass their own.
import type { NewWine, Wine } from './wines.js';

export interface WineStore {
  list(): Promise<Wine[]>;
  add(wine: NewWine): Promise<Wine>;
  get(id: number): Promise<Wine | undefined>;
  /** Records the label's URL path for a wine; false when there is no such wine. */
  setLabel(id: number, label: string): Promise<boolean>;
  /** Resolves when the database answers a query; rejects otherwise. */
  ping(): Promise<void>;
}

export interface ConfigSource {
  /** The latest configuration read from ZooKeeper (defaults until one was read). */
  current(): Record<string, unknown>;
  /** Resolves when ZooKeeper answers a request; rejects otherwise. */
  ping(): Promise<void>;
}

export interface LabelStore {
  /** Stores the bytes as a new file; returns its file name (not a path). */
  save(wineId: number, bytes: Buffer, extension: string): Promise<string>;
  /** Resolves when the shared directory is there and writable; rejects otherwise. */
  ping(): Promise<void>;
}
