// Labels on the shared file store (/mnt/files/labels): written through a temporary file and a rename,
// so nginx never serves half an image; the name carries the content's hash, so a new label is a new URL.
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabelStore } from './ports.js';

/** A label store in a directory: `directoryLabelStore('/mnt/files/labels')`. */
export function directoryLabelStore(dir: string): LabelStore {
  return {
    async save(wineId, bytes, extension) {
      const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
      const name = `wine-${wineId}-${hash}.${extension}`;
      const temporary = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeFile(temporary, bytes, { mode: 0o644, flag: 'wx' });
        await rename(temporary, join(dir, name));
      } catch (error) {
        await unlink(temporary).catch(() => {});
        throw error;
      }
      return name;
    },
    async ping() {
      const info = await stat(dir);
      if (!info.isDirectory()) throw new Error(`${dir} is not a directory`);
      await access(dir, constants.W_OK);
    },
  };
}
