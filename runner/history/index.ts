export {
  CHANGE_POINT_DEFAULTS,
  detectChangePoints,
  MIN_SEGMENT_LENGTH,
  MIN_SERIES_LENGTH,
  type ChangePoint,
  type ChangePointOptions,
} from './change-points.ts';
export { commitOrder } from './commit-order.ts';
export { formatChange, formatHistory, formatRigEdit, formatSeries } from './format.ts';
export { fingerprintLabel, historyHostWarnings, historyHosts, type HistoryFingerprint, type HistoryHost } from './hosts.ts';
export { readRigArtifacts } from './read-artifacts.ts';
export { buildHistory, type ArtifactFile, type HistoryOptions, type HistoryPoint, type HistorySeries, type RigEdit, type RigHistory } from './series.ts';
