/** Whether a Docker engine answers, checked cheaply before testcontainers is loaded. */
import { request } from 'node:http';

/**
 * True when a Docker engine answers `GET /_ping` on `DOCKER_HOST` (unix or
 * tcp) or `/var/run/docker.sock`, within `timeoutMs`. A `docker` CLI with no
 * engine behind it (as on machines with only the client) answers false.
 */
export function dockerAnswers(env: NodeJS.ProcessEnv = process.env, timeoutMs = 1500): Promise<boolean> {
  const host = env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  let target: { socketPath: string } | { host: string; port: number };
  if (host.startsWith('unix://')) target = { socketPath: host.slice('unix://'.length) };
  else if (host.startsWith('tcp://')) {
    const url = new URL(host.replace('tcp://', 'http://'));
    target = { host: url.hostname, port: Number(url.port || 2375) };
  } else return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
