// The wine-cellar nodes: Debian 12 (the provider's cached image), small. Clients of the file store may
// mount it by sshfs (FUSE); the file server exports a directory nfs-ganesha can serve.
import { nodeSpec } from '@forklift/render-crate';

const hardware = { minCores: 1, minRamMiB: 512 };

/** A plain node (lb, zk, db). */
export default nodeSpec({ image: 'debian-12', hardware });

/** A client of the shared file store (web, app): /dev/fuse for the sshfs fallback on nspawn nodes. */
export const fileClientNode = nodeSpec({ image: 'debian-12', hardware, provider: { nspawn: { fuse: true } } });

/** The file server: an export nfs-ganesha can serve on nspawn nodes. */
export const fileServerNode = nodeSpec({ image: 'debian-12', hardware, provider: { nspawn: { nfsExport: true } } });
