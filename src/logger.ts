import pino, { type Logger } from 'pino';
import { standardDestination } from './observe/log-destination.js';
import { prettyDestination } from './observe/pretty-lines.js';

/**
 * JSON logs through pino. Secrets are redacted by field name wherever our log lines put
 * them; log lines never carry a request body, only the fields named here.
 */
const SECRET_FIELDS = ['authorization', 'password', 'otp', 'secret', 'token', 'client_secret', 'access_token', 'refresh_token'];

// Top level and one level down: deeper wildcards cost pino's redaction about 8% of the
// echo throughput (measured), and our own lines never nest secrets deeper; property maps
// that do go to logs or traces pass through maskSecrets (engine/props.ts) first.
export const REDACT_PATHS = [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), 'req.headers.authorization'];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout, batched (observe/log-destination.ts). */
  destination?: pino.DestinationStream;
  /** `pretty`: readable lines for a terminal (LOG_FORMAT); anything else: JSON. */
  format?: string | undefined;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const target = options.destination ?? standardDestination(1);
  const destination = options.format === 'pretty' ? prettyDestination(target) : target;
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'authpipe' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
