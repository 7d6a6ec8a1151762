/**
 * Tools for the no-leak test: capture every log line (our pino logger and the Temporal runtime's),
 * export every workflow history with the official CLI, and look for secrets in plaintext or in the
 * encodings a payload or log could carry them in (base64 at any alignment, base64url, URL-encoding, hex).
 */
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { createLogger, type Logger } from '../../src/logger';
import { resolveTemporalCli } from '../../src/dev/temporal-binaries';
import { PinoTemporalLogger } from '../../src/temporal/runtime';

const run = promisify(execFile);

export interface LogCapture {
  /** Pino logger at `trace` writing every line to `lines`. */
  logger: Logger;
  /** The production Temporal runtime logger (SDK worker, workflow and activity logs) over `logger`. */
  runtimeLogger: PinoTemporalLogger;
  lines: string[];
}

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'trace', name: 'leak-test', destination: sink });
  return { logger, runtimeLogger: new PinoTemporalLogger(logger), lines };
}

/** The stable part of base64(s) when s sits at byte offset ≡ k (mod 3) inside a larger buffer. */
function base64Cores(s: string): string[] {
  const bytes = Buffer.from(s, 'utf8');
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const from = k === 0 ? 0 : 4;
    const to = 4 * Math.floor((k + bytes.length) / 3);
    if (to - from >= 8) out.push(b64.slice(from, to));
  }
  return out;
}

/** Every form in which `secret` would be recognisable in a text dump. */
export function encodedForms(secret: string): Array<{ form: string; text: string; caseInsensitive?: boolean }> {
  const forms: Array<{ form: string; text: string; caseInsensitive?: boolean }> = [{ form: 'plain', text: secret, caseInsensitive: true }];
  for (const core of base64Cores(secret)) {
    forms.push({ form: 'base64', text: core });
    const url = core.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== core) forms.push({ form: 'base64url', text: url });
  }
  const uri = encodeURIComponent(secret);
  if (uri !== secret) forms.push({ form: 'url-encoded', text: uri, caseInsensitive: true });
  forms.push({ form: 'hex', text: Buffer.from(secret, 'utf8').toString('hex'), caseInsensitive: true });
  const json = JSON.stringify(secret).slice(1, -1);
  if (json !== secret) forms.push({ form: 'json-escaped', text: json });
  return forms;
}

export interface Leak {
  secret: string;
  form: string;
  where: string;
  context: string;
}

/** Finds every secret, in any of its forms, in the named texts. */
export function findLeaks(texts: Array<{ where: string; text: string }>, secrets: string[]): Leak[] {
  const leaks: Leak[] = [];
  for (const { where, text } of texts) {
    const lower = text.toLowerCase();
    for (const secret of secrets) {
      for (const f of encodedForms(secret)) {
        const i = f.caseInsensitive ? lower.indexOf(f.text.toLowerCase()) : text.indexOf(f.text);
        if (i >= 0) leaks.push({ secret, form: f.form, where, context: text.slice(Math.max(0, i - 80), i + f.text.length + 80) });
      }
    }
  }
  return leaks;
}

export async function temporalCli(args: string[]): Promise<string> {
  const { stdout } = await run(resolveTemporalCli(), args, { maxBuffer: 512 * 1024 * 1024 });
  return stdout;
}

export interface ExportedExecution {
  workflowId: string;
  runId: string;
  type: string;
  /** `temporal workflow show --output json` */
  history: string;
  /** `temporal workflow describe --output json` (search attributes, memo, pending activities) */
  describe: string;
}

/**
 * Every execution the server knows (each run of a continued-as-new chain too), with its history and
 * description, exported by the official CLI without a codec: exactly what Temporal stores.
 */
export async function exportAllWorkflows(
  address: string,
  namespace = 'default',
): Promise<{ list: string; executions: ExportedExecution[] }> {
  const conn = ['--address', address, '--namespace', namespace];
  const list = await temporalCli(['workflow', 'list', ...conn, '--output', 'json', '--limit', '10000']);
  const rows = parseJsonLines(list) as Array<{ execution: { workflowId: string; runId: string }; type?: { name?: string } }>;
  const executions: ExportedExecution[] = [];
  for (const row of rows) {
    const { workflowId, runId } = row.execution;
    const [history, describe] = await Promise.all([
      temporalCli(['workflow', 'show', ...conn, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json']),
      temporalCli(['workflow', 'describe', ...conn, '--workflow-id', workflowId, '--run-id', runId, '--output', 'json']),
    ]);
    executions.push({ workflowId, runId, type: row.type?.name ?? '', history, describe });
  }
  return { list, executions };
}

/** The CLI prints a JSON array, or one JSON document per line, depending on version and command. */
function parseJsonLines(text: string): unknown[] {
  const t = text.trim();
  if (!t) return [];
  if (t.startsWith('[')) return JSON.parse(t) as unknown[];
  return t
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
}

/** Payload-shaped objects ({metadata: {encoding}, data}) in a JSON document, with their JSON path. */
export function payloadsIn(doc: unknown, path = '$'): Array<{ path: string; encoding: string; data: string }> {
  const out: Array<{ path: string; encoding: string; data: string }> = [];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...payloadsIn(v, `${path}[${i}]`)));
  else if (doc && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    const meta = o.metadata as Record<string, unknown> | undefined;
    if (meta && typeof meta === 'object' && typeof meta.encoding === 'string') {
      out.push({
        path,
        encoding: Buffer.from(meta.encoding, 'base64').toString('utf8'),
        data: Buffer.from(typeof o.data === 'string' ? o.data : '', 'base64').toString('utf8'),
      });
    }
    for (const [k, v] of Object.entries(o)) out.push(...payloadsIn(v, `${path}.${k}`));
  }
  return out;
}
