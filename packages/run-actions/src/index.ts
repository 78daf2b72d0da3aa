export {
  runActions,
  defaultTransport,
  assertPlanMode,
  type RunActionsOptions,
  type RunReport,
  type RunRecord,
  type RunProgress,
  type NodeTally,
  type TransportFactory,
} from './run-actions.js';
export type { Transport, ExecOptions, ExecResult } from './transport.js';
export { sshTransport } from './ssh-transport.js';
export { connectSsh, SSH_ALGORITHMS, type SshConnectOptions } from './ssh-connect.js';
export { localTransport } from './local-transport.js';
export { runPhase, skipPhase, type PhaseRecordSink, type PhaseOutcome, type RunPhaseOptions } from './run-phase.js';
export { MarkerParser, decodeMarkers, FIELD_LIMIT_BYTES, type ActionOutcome, type StrayOutput } from './markers.js';
export { WRAPPER, FACTS_SCRIPT, FACTS_END, NOTHING_TO_RUN, remoteCommand, wrapperInput, newNonce, type WrapperUpload } from './remote-command.js';
export { openPhaseChannel, type PhaseChannel, type ChannelOutput } from './phase-channel.js';
export { deliverBlobs, readSensitiveUploads, DEFAULT_BLOB_DIR } from './uploads.js';
export { preflight, PREFLIGHT_SCRIPT, osFactsFrom, withFacts } from './facts.js';
export { hostKeysFromKnownHosts, parsePinnedKey, fingerprintOf, knownHostsName } from './host-keys.js';
export { NodeError } from './node-errors.js';
export { parseRunFlags, DEFAULT_TIMEOUT_SECONDS, type RunFlags } from './flags.js';
export { splitBatches, type BatchSize } from './batches.js';
export { recap } from './recap.js';
export { runActionsTool } from './tool.js';
export { RUN_ACTIONS_VERSION } from './version.js';
