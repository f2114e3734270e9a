// @tsv/supervise library face: the supervisor of one service directory (hosted by tsv and
// tsvscan), its pure state machine, and the service-directory settings.
export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { step, initialState, stateOf, TABLE, STATES, EVENT_TYPES, IGNORE, type State, type EventType, type MachineState, type MachineEvent, type Effect, type Now, type Phase, type Want, type TimerName } from './machine.js';
export { lifeStep, LIFE_TABLE, LIFE_STATES, LIFE_EVENT_TYPES, type LifeState, type LifeEvent, type LifeEventType, type LifeEffect } from './life-table.js';
export { ORPHAN_TABLE, ORPHAN_STATES, ORPHAN_EVENT_TYPES, orphanStep, type OrphanState, type OrphanEventType, type OrphanEffect } from './orphan-table.js';
export { parseRestartPolicy, parseSignal, parseUint, backoffDelay, DEFAULT_RESTART, DEFAULT_SETTINGS, type RestartPolicy, type Settings } from './policy.js';
export { takeOverOrphans } from './takeover.js';
export { POOL_TABLE, POOL_STATES, POOL_EVENT_TYPES, MAX_INSTANCES, initialPool, poolStep, poolEventOf, parseInstances, type Pool, type PoolState, type PoolEvent, type PoolEventType, type PoolEffect, type InstanceView, type RollConfig } from './pool-table.js';
export { poolStatusView, poolFileText, type PoolSince, type PoolFile } from './pool-status.js';
export { parseLifelineFd } from './lifeline.js';
export { parseSchedule, parseDuration, expressionError, nextTick, nextTicks, jitterOf, SCHEDULE_DEFAULTS, type ScheduleRule, type ParsedSchedule, type NotifyOn } from './schedule-rule.js';
export { schedStep, schedRowOf, initialSchedState, exitText, SCHEDULE_TABLE, SCHEDULE_ROWS, SCHED_EVENT_TYPES, SCHED_IGNORE, MAX_SLEEP_MS, type ScheduleRow, type SchedState, type SchedEvent, type SchedEventType, type SchedEffect, type SavedSchedule } from './schedule-table.js';
export { markerPrefix } from './schedule-shell.js';
