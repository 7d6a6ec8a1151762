/**
 * `npm start` in a child process (src/dev/start.ts: the worker and the API in one process), so a test can
 * `kill -9` the whole stack and start it again. Temporal and HubSpot are the test stack's (an existing
 * TEMPORAL_ADDRESS and a HUBSPOT_TOKEN make npm start use them instead of starting its own), and so are the
 * data dir (store, keys) and the task queue. A prebuilt workflow bundle keeps start-up fast.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { bundleFile } from './worker-process';

export interface StackProcess {
  child: ChildProcess;
  /** The API's base URL (http://127.0.0.1:<port>). */
  url: string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A TCP port free right now on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startStackProcess(
  envVars: Record<string, string>,
  options: { port?: number; readyTimeoutMs?: number } = {},
): Promise<StackProcess> {
  const port = options.port ?? (await freePort());
  const bundle = await bundleFile(envVars.DATA_DIR);
  const root = path.resolve(__dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'dev', 'start.ts')], {
    cwd: root,
    env: {
      ...process.env,
      ...envVars,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      // Set, so npm start uses the test's simulator (destinations name it) rather than starting its own.
      HUBSPOT_TOKEN: envVars.HUBSPOT_TOKEN ?? 'external-hubspot',
      WORKFLOW_BUNDLE_PATH: bundle,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start not ready: ${output.slice(-2000)}`)), options.readyTimeoutMs ?? 90_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('HubSpot audience destination is running.')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before ready: ${output.slice(-2000)}`));
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
