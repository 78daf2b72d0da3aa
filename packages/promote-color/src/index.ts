export {
  promoteColor,
  stageShares,
  checkProblem,
  windowProblem,
  type PromoteColorOptions,
  type PromoteReport,
  type PromotionFields,
  type StageTiming,
} from './promote.js';
export { promotionStatus, rollbackColor, type ManageOptions } from './manage.js';
export { Fleet, selectLbNodes, sharesOf, shareOf, type Connect, type FleetOptions, type LbView } from './fleet.js';
export { LbSession, type Preflight, type HeldLock } from './lb.js';
export { lbTransport, type LbTransport } from './ssh.js';
export { parseShowStat, appLayout, colorServers, isUp, isOut, type ServerStat, type StatTable, type AppLayout } from './stats.js';
export { windowBetween, countersOf, percent, EMPTY_WINDOW, type Counters } from './window.js';
export { parseStages, parseDuration, parseRate, parseCount, DEFAULT_STAGES, DEFAULT_HOLD_MS, DEFAULT_MAX_ERROR_RATE, DEFAULT_MIN_REQUESTS } from './options.js';
export { parseStoredState, type PromoteState, type PromotionState, type HistoryEntry } from './state.js';
export * from './layout.js';
export { promoteColorTool } from './tool.js';
export { PROMOTE_COLOR_VERSION } from './version.js';
