/**
 * Runs the official Temporal CLI dev server (`temporal server start-dev`) as a child process with its
 * state in a SQLite file, the Web UI, and our search attributes. Used by `npm start` and by tests that
 * stop and restart Temporal mid-activation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { resolveTemporalCli } from './temporal-binaries';

export interface DevServerOptions {
  dbFile?: string;
  port: number;
  uiPort?: number;
  /** Headless when false. */
  ui?: boolean;
  ip?: string;
  namespace?: string;
  searchAttributes?: string[];
  codecEndpoint?: string;
  /** `--dynamic-config-value KEY=JSON` pairs. */
  dynamicConfig?: Record<string, unknown>;
  logFile?: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return canConnect(host, port);
}

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  if (await portInUse(options.port, ip)) {
    throw new Error(
      `Port ${options.port} is already in use: another Temporal server? Stop it, or set TEMPORAL_PORT (or TEMPORAL_ADDRESS to use that server).`,
    );
  }
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port), '--log-level', 'warn', '--log-format', 'json'];
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.namespace) args.push('--namespace', options.namespace);
  if (options.ui === false) args.push('--headless');
  else if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  for (const sa of options.searchAttributes ?? []) args.push('--search-attribute', `${sa}=Keyword`);
  for (const [k, v] of Object.entries(options.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);

  const out = options.logFile ? fs.openSync(options.logFile, 'a', 0o600) : 'ignore'; // 0600, like the other logs
  const child = spawn(resolveTemporalCli(), args, { stdio: ['ignore', out, out], detached: false });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await canConnect(ip, options.port))) {
    if (exited) throw new Error(`The Temporal dev server exited during start-up${options.logFile ? `; see ${options.logFile}` : ''}.`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('The Temporal dev server did not start within the time limit.');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address: `${ip}:${options.port}`,
    uiUrl: options.ui === false ? undefined : `http://localhost:${options.uiPort ?? options.port + 1000}`,
    process: child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exited) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
