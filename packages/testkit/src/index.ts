export { startSshd, SSHD_PATH, type SshdOptions, type TestSshd } from './sshd.js';
export { createTestUser, type SudoMode, type TestUser } from './user.js';
export { freePort } from './free-port.js';
export { generateKey, publicKeyOf } from './keys.js';
export { runBinary, spawnBinary, binPath, toNdjson, REPO_ROOT, type BinaryOptions, type BinaryResult, type SpawnedBinary } from './run-binary.js';
export { undeclaredFields } from './record-drift.js';
export { pinnedSshArgs, sshOnNode } from './node-ssh.js';
