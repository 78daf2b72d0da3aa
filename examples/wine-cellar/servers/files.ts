// The file server: nfs-ganesha exports /srv/files; the clients' sshfs fallback key may reach it by SFTP.
// Labels live in /srv/files/labels, owned by the share's account (writes through the share are its).
import { nfsServer } from '@forklift/crates';
import { serverSpec } from '@forklift/render-crate';

export default serverSpec({
  name: 'wine-cellar-files',
  extends: [nfsServer({ export: '/srv/files', sftpAuthorizedKeys: 'secrets/files_ed25519.pub' })],
  phases: {
    // 2755: the export is setgid, and a directory inherits that bit (chmod 0755 would not clear it)
    configure: [{ action: 'directory', id: 'labels-dir', path: '/srv/files/labels', owner: 'files', group: 'files', mode: '2755' }],
  },
});
