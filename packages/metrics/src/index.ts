/**
 * @stratacache/metrics: Prometheus metrics of every stratacache layer (from
 * their diagnostics channels), Redis server metrics from INFO, liveness and
 * readiness, alert thresholds, and the handlers to serve them.
 */

export type { AlertEvent, AlertName, Alerts, AlertsOptions } from './alerts.js';
export { AlertChannel, createAlerts } from './alerts.js';
export { Channels } from './channels.js';
export { breakerClosedCheck, busConnectedCheck, pingCheck } from './checks.js';
export type { CheckReport, Health, HealthCheck, HealthCheckResult, HealthOptions, HealthReport } from './health.js';
export { createHealth } from './health.js';
export type {
  EndpointOptions,
  EndpointResponse,
  FastifyHandler,
  FastifyReplyLike,
  NodeHandler,
} from './http.js';
export { fastifyHandlers, healthResponse, httpListener, metricsResponse, nodeHandlers } from './http.js';
export { OTHER } from './label-cap.js';
export type { MeasuredCache, MeasuredSessions, MetricsOptions } from './options.js';
export { FAST_BUCKETS, SLOW_BUCKETS } from './options.js';
export type { MetricsHandle } from './register.js';
export { registerMetrics } from './register.js';
