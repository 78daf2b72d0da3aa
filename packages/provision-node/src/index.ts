export {
  provisionNodes,
  convergeNodes,
  listNodes,
  listReport,
  DEFAULT_GROUP,
  type ProvisionOptions,
  type ProvisionReport,
  type UnreachableNode,
} from './provision.js';
export { converge, newIds, byIndex, type ConvergeTarget } from './converge.js';
export { provisionNodeTool, PROVISION_NODE_VERSION } from './tool.js';
export { resolveService, BUILTIN_SERVICES, ServiceFileSchema, InventoryNodeSchema, type InventoryNode } from './services.js';
export { loadProvider, PROVIDER_NAMES, isProviderName, type ProviderName } from './registry.js';
export { forkliftHome, imageCache, providerContext } from './context.js';
export { ensureRootfs, rootfsName, BASE_PACKAGES, DEBIAN_MIRROR } from './rootfs.js';
export { acquireLock, type HeldLock } from './lock.js';
export { hostNetwork, macFor, APT_PROXY_PORT } from './network.js';
export { waitForSsh, type SshTarget } from './ssh-wait.js';
export { ensureHostCommands, ensureInotifyInstances, hasCommand, canApt, type HostCommand } from './prerequisites.js';
export { readGroupLabels, writeGroupLabels, labelRecords, type GroupLabels } from './group-labels.js';
export * from './provider.js';
