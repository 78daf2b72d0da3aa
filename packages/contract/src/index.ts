export * from './lite.js';
export {
  OsFactsSchema,
  NodeRecordSchema,
  PlanActionSchema,
  PlanRecordSchema,
  ActionStatusSchema,
  ResultRecordSchema,
  StatusCountsSchema,
  PhaseRecordSchema,
  TestFailureSchema,
  TestRecordSchema,
  StepRecordSchema,
  ColorWeightSchema,
  PromotionStatusSchema,
  PromotionWindowSchema,
  PromotionRecordSchema,
  ErrorRecordSchema,
  SummaryRecordSchema,
  recordSchemas,
  makeRecord,
  jsonSchemaFor,
} from './records.js';
export { parseRecordLine } from './parse-line.js';
