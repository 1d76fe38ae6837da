/**
 * Where the shop keeps its data in Redis (namespaces under the key prefix,
 * `REDIS_NS`, `stratashop` by default), and the settings of that data which
 * live in code rather than in Redis. In one place with no imports: the
 * services build on them, and the launcher prints from them the command that
 * opens the admin console on the demo's data.
 */

/** Sessions: the namespace and the device limit per user. */
export const SESSIONS = { namespace: 'shop-sessions', maxPerUser: 2 } as const;

/**
 * coordination's fenced locks (stock, the stampede lock of `/top`) and task claims (reindex, order
 * generator): one namespace, as coordination's default `coord` is one, so the admin console's
 * coordination page (one namespace) shows both.
 */
export const COORD_NAMESPACE = 'shop-coord';

/** Windowed aggregates of the orders stream: the namespace, and the per-minute series with its grace. */
export const ORDER_WINDOWS = { namespace: 'shop-windows', series: 'orders-1m', size: '1m', grace: '10s' } as const;
