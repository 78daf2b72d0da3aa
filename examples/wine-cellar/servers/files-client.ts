// The shared file store at /mnt/files on web and app nodes: the kernel's NFS client where the node has
// one, else the sshfs fallback (nspawn nodes here; their node spec binds /dev/fuse).
import { nfsClient } from '@forklift/crates';
import { serverSpec } from '@forklift/render-crate';

export default serverSpec({
  name: 'wine-cellar-files-client',
  extends: [nfsClient({ mountPoint: '/mnt/files', sshKeyFrom: 'secrets/files_ed25519' })],
});
