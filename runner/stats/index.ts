export { createRng } from './random.ts';
export { quantileSorted, median, sortedAscending } from './percentile.ts';
export { medianAbsoluteDeviation } from './mad.ts';
export {
  bootstrapCI,
  bootstrapMeanAndMedianCI,
  bootstrapRatioCI,
  bootstrapRatioCIOfSorted,
  BOOTSTRAP_LEVEL,
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  type BootstrapOptions,
  type BootstrapStatistic,
  type Interval,
} from './bootstrap.ts';
export { mannWhitneyU, mannWhitneyUOfSorted, type MannWhitneyResult } from './mann-whitney.ts';
export { countOutliers, MODIFIED_Z_THRESHOLD } from './outliers.ts';
export { summarize, statOf, statOfSamples } from './summary.ts';
export {
  batchTimes,
  bootstrapSlopeCI,
  bootstrapSlopeRatioCI,
  rSquared,
  slopeThroughOrigin,
  summarizeBatches,
  SLOPE_METHOD,
} from './slope.ts';
