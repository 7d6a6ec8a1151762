/**
 * Runs a worker in a child process (so a test can `kill -9` it mid-activation, like a crashed host).
 * The child reads its config from the stack's environment; a prebuilt workflow bundle keeps start-up fast.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { workflowBundle } from './stack';

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Writes the test workflow bundle once per data dir and returns its path. */
export async function bundleFile(dir: string): Promise<string> {
  const file = path.join(dir, 'workflow-bundle.js');
  if (!fs.existsSync(file)) fs.writeFileSync(file, (await workflowBundle()).code);
  return file;
}

export async function startWorkerProcess(
  envVars: Record<string, string>,
  options: { readyTimeoutMs?: number } = {},
): Promise<WorkerProcess> {
  const bundle = await bundleFile(envVars.DATA_DIR);
  // Extra node flags for profiling, e.g. WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (envVars.WORKER_NODE_ARGS ?? process.env.WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, 'worker-child.ts')], {
    env: { ...process.env, ...envVars, WORKFLOW_BUNDLE_PATH: bundle },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process not ready: ${stderr.slice(-2000)}`)), options.readyTimeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('WORKER_READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${code}) before ready: ${stderr.slice(-2000)}`));
    });
  });
  return {
    child,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
