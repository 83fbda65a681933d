import pino, { type Logger } from 'pino';

/**
 * JSON logs through pino. Secrets are redacted by field name wherever our log lines put
 * them; log lines never carry a request body, only the fields named here.
 */
const SECRET_FIELDS = ['authorization', 'password', 'otp', 'secret', 'token', 'client_secret', 'access_token', 'refresh_token'];

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  'req.headers.authorization',
  'headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout, written asynchronously off the hot path. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'authpipe' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
