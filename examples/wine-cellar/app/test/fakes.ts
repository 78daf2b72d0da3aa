// In-memory stand-ins for MariaDB, ZooKeeper and the file store, injected into createApp() so the HTTP
// layer is tested on its own; each can be switched to failing to test /healthz and the 503 answers.
import type { ConfigSource, LabelStore, WineStore } from '../src/ports.js';
import type { NewWine, Wine } from '../src/wines.js';

export interface Switch {
  down?: string;
}

export function memoryStore(state: Switch = {}): WineStore & { rows: Wine[] } {
  const rows: Wine[] = [];
  const check = async (): Promise<void> => {
    if (state.down) throw new Error(state.down);
  };
  return {
    rows,
    async list() {
      await check();
      return rows.map((row) => ({ ...row }));
    },
    async add(wine: NewWine) {
      await check();
      const row = { id: rows.length + 1, ...wine };
      rows.push(row);
      return { ...row };
    },
    async get(id) {
      await check();
      const row = rows.find((r) => r.id === id);
      return row ? { ...row } : undefined;
    },
    async setLabel(id, label) {
      await check();
      const row = rows.find((r) => r.id === id);
      if (!row) return false;
      row.label = label;
      return true;
    },
    ping: check,
  };
}

export function fixedConfig(config: Record<string, unknown>, state: Switch = {}): ConfigSource & { set(c: Record<string, unknown>): void } {
  let current = config;
  return {
    current: () => current,
    set: (c) => {
      current = c;
    },
    async ping() {
      if (state.down) throw new Error(state.down);
    },
  };
}

export function failingLabels(message: string): LabelStore {
  return {
    async save() {
      throw new Error(message);
    },
    async ping() {
      throw new Error(message);
    },
  };
}
