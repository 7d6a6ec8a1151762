/**
 * The CLI's HTTP client for the API. Reads the API URL and key from options, the config (API_URL, API_KEY,
 * API_KEYS) or the key file `npm start` writes under DATA_DIR. Turns API errors into one readable line.
 */
import axios, { type AxiosInstance, type AxiosRequestConfig } from 'axios';
import { loadConfig } from '../config';
import { readApiKeyFile } from '../secrets/api-keys';

export interface ApiClientOptions {
  apiUrl?: string;
  apiKey?: string;
}

export class CliError extends Error {
  override name = 'CliError';
}

export function resolveApiKey(explicit?: string): string | undefined {
  if (explicit) return explicit;
  const config = loadConfig();
  if (config.cli.apiKey) return config.cli.apiKey;
  if (config.api.keys[0]) return config.api.keys[0];
  try {
    // First key of the key file (one per line, `#` comments; see docs/security.md).
    return readApiKeyFile(config.api.keyFile)[0];
  } catch {
    return undefined;
  }
}

export class ApiClient {
  readonly http: AxiosInstance;
  readonly baseUrl: string;

  constructor(options: ApiClientOptions = {}) {
    this.baseUrl = (options.apiUrl ?? loadConfig().api.url).replace(/\/+$/, '');
    const key = resolveApiKey(options.apiKey);
    this.http = axios.create({
      baseURL: this.baseUrl,
      headers: key ? { Authorization: `Bearer ${key}` } : {},
      validateStatus: () => true,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
    });
  }

  async call<T>(config: AxiosRequestConfig): Promise<T> {
    let res;
    try {
      res = await this.http.request<T>(config);
    } catch (err) {
      throw new CliError(
        `Cannot reach the API at ${this.baseUrl} (${(err as { code?: string }).code ?? (err as Error).message}). Is it running (npm start)?`,
      );
    }
    if (res.status >= 400) {
      const body = res.data as { error?: { code?: string; message?: string; details?: { problems?: Array<{ message: string }> } } };
      const problems = body?.error?.details?.problems?.map((p) => `  - ${p.message}`).join('\n');
      throw new CliError(
        `${res.status} ${body?.error?.code ?? ''}: ${body?.error?.message ?? JSON.stringify(res.data)}${problems && (body.error?.details?.problems?.length ?? 0) > 1 ? `\n${problems}` : ''}`,
      );
    }
    return res.data;
  }

  get<T>(url: string, params?: Record<string, unknown>): Promise<T> {
    return this.call<T>({ method: 'GET', url, params });
  }

  post<T>(url: string, data?: unknown, config: AxiosRequestConfig = {}): Promise<T> {
    return this.call<T>({ method: 'POST', url, data, ...config });
  }

  patch<T>(url: string, data?: unknown): Promise<T> {
    return this.call<T>({ method: 'PATCH', url, data });
  }

  delete<T>(url: string): Promise<T> {
    return this.call<T>({ method: 'DELETE', url });
  }
}
