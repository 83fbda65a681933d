import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { AuthpipeError } from '../errors.js';
import type { RunObserver } from '../engine/runner.js';
import type { CallContext } from '../engine/valve.js';
import { listed, trustedProxies, type TrustedProxies } from '../http/client-ip.js';
import { TraceRecorder, type Trace } from './trace.js';

/**
 * The server's debug trace switch. A call is traced only when all of these hold:
 * - the main file enables it (`trace.enabled`, off by default; a reload turns it on or off);
 * - the request carries `x-authpipe-trace`, equal to `trace.token` when one is configured
 *   (compared in constant time), else any non-empty value;
 * - the client address (trusted_proxies honoured) is in `trace.clients` (loopback by default).
 * The trace then goes to the log as one `trace` line (output "log"), or also back to the
 * caller in the `x-authpipe-trace` response header (output "header", which requires a
 * token). Values are masked as in `authpipe run --trace`: secret-named properties and any
 * value equal to one never appear. A refused or unauthorised trace request is answered as
 * if the header were absent, so the switch reveals nothing about itself.
 */
export const TRACE_HEADER = 'x-authpipe-trace';
const MAX_HEADER_BYTES = 8192;

export interface CallTrace {
  readonly observer: RunObserver;
  /** Called once, right before the answer is sent. */
  end(res: ServerResponse, ctx: CallContext | undefined, status: number, error?: AuthpipeError): void;
}

export interface TraceRequest {
  config: LoadedConfig;
  /** The values of one request header (lower-case name). */
  header(name: string): readonly string[] | undefined;
  clientIp: string;
}

interface Compiled {
  enabled: boolean;
  output: 'log' | 'header';
  token: Buffer | null;
  clients: TrustedProxies;
}

const compiled = new WeakMap<LoadedConfig, Compiled>();

function settingsOf(config: LoadedConfig): Compiled {
  let settings = compiled.get(config);
  if (!settings) {
    const trace = config.main.trace;
    settings = {
      enabled: trace.enabled,
      output: trace.output,
      token: trace.token === undefined ? null : digest(trace.token),
      clients: trustedProxies(trace.clients),
    };
    compiled.set(config, settings);
  }
  return settings;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Returns a per-call trace when the switch allows one; `inner` (metrics) keeps observing. */
export function traceSwitch(logger: Logger, inner: RunObserver | undefined) {
  return (call: TraceRequest): CallTrace | undefined => {
    const asked = call.header(TRACE_HEADER);
    if (asked === undefined) return undefined;
    const settings = settingsOf(call.config);
    if (!settings.enabled || asked.length !== 1 || asked[0] === '') return undefined;
    if (settings.token && !timingSafeEqual(digest(asked[0] as string), settings.token)) return undefined;
    if (!listed(settings.clients, call.clientIp)) return undefined;
    const recorder = new TraceRecorder(inner, (text) => call.config.secrets.redact(text));
    return {
      observer: recorder,
      end(res, ctx, status, error) {
        try {
          const trace = recorder.finish(ctx, status, error);
          logger.info({ requestId: trace.requestId, trace }, 'trace');
          if (settings.output === 'header') res.setHeader(TRACE_HEADER, headerValue(trace));
        } catch (err) {
          logger.warn({ err }, 'trace could not be written'); // a debug aid must not fail the call
        }
      },
    };
  };
}

/** JSON with every non-ASCII character escaped, so it is a valid header value; bounded in size. */
function headerValue(trace: Trace): string {
  let text = asciiJson(trace);
  if (text.length > MAX_HEADER_BYTES) {
    const slim = { ...trace, truncated: true, steps: trace.steps.map((s) => ({ ...s, changes: [] })) };
    text = asciiJson(slim);
    if (text.length > MAX_HEADER_BYTES) text = asciiJson({ requestId: trace.requestId, status: trace.status, truncated: true, see: 'log' });
  }
  return text;
}

function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
