import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { compilePipes, type PipeSource } from '../engine/compile.js';
import type { CompiledPipe } from '../engine/pipe.js';
import { newAjv, type ValveRegistry } from '../engine/registry.js';
import type { Services } from '../engine/services.js';
import { noopAudit } from '../engine/audit.js';
import { noopMetrics } from '../engine/metrics.js';
import { ajvIssues } from '../config-kit/ajv-issues.js';
import { ConfigError, pointer, type ConfigIssue } from '../config-kit/issues.js';
import { readJsonFile, type FileOverlay } from '../config-kit/json-file.js';
import { mainSchema, type HttpConfiguration, type MainConfig } from './main-schema.js';
import { pipeSchema, type PipeConfig } from '../engine/pipe-schema.js';
import { resolveSecrets } from '../config-kit/secrets.js';
import { display } from './data-file.js';
import { buildConfigServices, checkCompiledFeatures } from './services.js';
import { invalidProxyEntry } from '../http/client-ip.js';
import { connectionCapsProblem } from './connection-schema.js';
import { checkPipes } from './pipe-check.js';

/**
 * Loads and validates the whole configuration: the main file, every pipe, every valve's own
 * config, and the cross references (allowedOperation without a pipe, pipe-call targets and
 * cycles). Either everything is valid and compiled, or a ConfigError lists every issue with
 * its file and JSON pointer. Nothing here touches the running server: reload swaps only a
 * fully loaded result.
 */

export interface Tenant {
  readonly id: string;
  readonly displayName: string;
  readonly allowedOperations: ReadonlySet<string>;
}

export interface Listener {
  readonly http: HttpConfiguration;
  readonly tenants: ReadonlyMap<string, Tenant>;
}

export interface LoadedConfig {
  /** A short hash of every file read: what /readyz reports as the active version. */
  readonly version: string;
  readonly file: string;
  readonly dir: string;
  readonly main: MainConfig;
  readonly listeners: readonly Listener[];
  readonly pipes: ReadonlyMap<string, CompiledPipe>;
  readonly services: Services;
  /** Every file read, for the reload watcher. */
  readonly files: readonly string[];
  /** Problems that did not stop the load but must be seen (config-kit/file-mode.ts, the pipe check's warnings). */
  readonly warnings: readonly ConfigIssue[];
}

/** What a load needs from outside: the valves, and the services that outlive a reload. */
export interface LoadOptions {
  registry: ValveRegistry;
  /** Built from the main file on first use (the store type is configured there), then reused. */
  runtime: (main: MainConfig) => Pick<Services, 'store' | 'clock' | 'logger'> & Partial<Pick<Services, 'metrics' | 'audit'>>;
  env?: Readonly<Record<string, string | undefined>>;
  /** Check only: builders write nothing (see ConfigServiceContext.readOnly). */
  readOnly?: boolean;
  /** Texts that replace (or, null, delete) files on disk for this load: an admin change checked before it is written. */
  overlay?: FileOverlay;
}

// Defaults of every schema are applied here, once, as the files are validated.
const ajv = newAjv({ useDefaults: true });
const validateMain = ajv.compile(mainSchema);
const validatePipe = ajv.compile(pipeSchema);

export function loadConfig(mainFile: string, options: LoadOptions): LoadedConfig {
  const file = resolve(mainFile);
  const dir = dirname(file);
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const hash = createHash('sha256');

  const overlay = options.overlay;
  const mainRead = readJsonFile(file, issues, overlay);
  if (!mainRead) throw new ConfigError(issues);
  hash.update(mainRead.text);
  const main = resolveSecrets(mainRead.value, display(file), { env, baseDir: dir, warnings }, issues) as MainConfig;
  if (!validateMain(main)) {
    issues.push(...ajvIssues(display(file), '', validateMain.errors));
    throw new ConfigError(issues);
  }

  const files = [file];
  const configServices = buildConfigServices({
    main,
    file: display(file),
    dir,
    env,
    issues,
    warnings,
    hash: (text) => hash.update(text),
    watch: (f) => files.push(f),
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(overlay ? { overlay } : {}),
  });
  const services: Services = { metrics: noopMetrics, audit: noopAudit, ...options.runtime(main), ...configServices, configDir: dir, env };
  const pipesDir = resolve(dir, main.pipes);
  const sources = readPipes(pipesDir, env, issues, hash, overlay);
  const { pipes, calls, facts } = compilePipes(sources, options.registry, services, issues);
  checkPipeCalls(pipes, calls, issues);
  checkCompiledFeatures({ main, file: display(file), pipes: new Set(pipes.keys()), services, issues });
  const listeners = buildListeners(main, file, pipes, issues);
  // Following pipes is only meaningful once every valve compiled: a missing one would look like a missing property.
  if (issues.length === 0) {
    const operations = new Set(listeners.flatMap((l) => [...l.tenants.values()].flatMap((t) => [...t.allowedOperations])));
    checkPipes(facts, operations, issues, warnings);
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    version: hash.digest('hex').slice(0, 12),
    file,
    dir,
    main,
    listeners,
    pipes,
    services,
    files: [...files, ...sources.map((s) => resolve(s.file))],
    warnings,
  };
}

function readPipes(
  pipesDir: string,
  env: Readonly<Record<string, string | undefined>>,
  issues: ConfigIssue[],
  hash: ReturnType<typeof createHash>,
  overlay?: FileOverlay,
): PipeSource[] {
  let names: string[];
  try {
    const found = new Set(readdirSync(pipesDir).filter((n) => n.endsWith('.json')));
    for (const [path, text] of overlay ?? []) {
      if (dirname(path) !== pipesDir || !path.endsWith('.json')) continue;
      if (text === null) found.delete(basename(path));
      else found.add(basename(path));
    }
    names = [...found].sort();
  } catch (err) {
    issues.push({
      file: display(pipesDir),
      pointer: '',
      code: 'CONFIG_READ',
      message: `cannot read the pipes folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    });
    return [];
  }
  const sources: PipeSource[] = [];
  for (const name of names) {
    const path = join(pipesDir, name);
    const shown = display(path);
    const read = readJsonFile(path, issues, overlay);
    if (!read) continue;
    hash.update(name).update(read.text);
    const config = resolveSecrets(read.value, shown, { env, baseDir: pipesDir }, issues) as PipeConfig;
    if (!validatePipe(config)) {
      issues.push(...ajvIssues(shown, '', validatePipe.errors));
      continue;
    }
    const expected = basename(name, '.json');
    if (config.id !== expected) {
      issues.push({ file: shown, pointer: '/id', message: `pipe id "${config.id}" must equal the file name "${expected}"` });
      continue;
    }
    sources.push({ file: shown, config });
  }
  return sources;
}

function checkPipeCalls(
  pipes: ReadonlyMap<string, CompiledPipe>,
  calls: Map<string, { target: string; pointer: string }[]>,
  issues: ConfigIssue[],
): void {
  for (const [id, targets] of calls) {
    for (const { target, pointer: at } of targets) {
      if (!pipes.has(target))
        issues.push({
          file: pipes.get(id)?.file ?? id,
          pointer: at,
          code: 'CONFIG_REFERENCE',
          message: `calls pipe "${target}", which does not exist`,
        });
    }
  }
  // Depth-first search for a cycle; report each cycle once, at the pipe that closes it.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    state.set(id, 'visiting');
    for (const { target, pointer: at } of calls.get(id) ?? []) {
      if (state.get(target) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(target)), id, target].join(' -> ');
        issues.push({ file: pipes.get(id)?.file ?? id, pointer: at, message: `pipe-call cycle: ${cycle}` });
      } else if (!state.has(target) && calls.has(target)) {
        visit(target, [...path, id]);
      }
    }
    state.set(id, 'done');
  };
  for (const id of calls.keys()) if (!state.has(id)) visit(id, []);
}

function buildListeners(main: MainConfig, file: string, pipes: ReadonlyMap<string, CompiledPipe>, issues: ConfigIssue[]): Listener[] {
  const shown = display(file);
  const byId = new Map<string, { http: HttpConfiguration; tenants: Map<string, Tenant> }>();
  main.http_configuration.forEach((http, i) => {
    if (byId.has(http.id))
      issues.push({
        file: shown,
        pointer: pointer('http_configuration', i, 'id'),
        message: `duplicate http configuration id "${http.id}"`,
      });
    http.trusted_proxies.forEach((entry, p) => {
      const problem = invalidProxyEntry(entry);
      if (problem) issues.push({ file: shown, pointer: pointer('http_configuration', i, 'trusted_proxies', p), message: problem });
    });
    const caps = connectionCapsProblem(http);
    if (caps) issues.push({ file: shown, pointer: pointer('http_configuration', i, 'max_connections_per_address'), message: caps });
    byId.set(http.id, { http, tenants: new Map() });
  });
  main.modules.forEach((module, m) => {
    const listener = byId.get(module.config.http_configuration_ref);
    if (!listener) {
      issues.push({
        file: shown,
        code: 'CONFIG_REFERENCE',
        pointer: pointer('modules', m, 'config', 'http_configuration_ref'),
        message: `names http configuration "${module.config.http_configuration_ref}"; expected one of ${[...byId.keys()].join(', ')}`,
      });
      return;
    }
    module.config.tenant.forEach((tenant, t) => {
      if (listener.tenants.has(tenant.id)) {
        issues.push({
          file: shown,
          pointer: pointer('modules', m, 'config', 'tenant', t, 'id'),
          message: `tenant "${tenant.id}" is declared twice on this listener`,
        });
      }
      tenant.allowedOperation.forEach((operation, o) => {
        if (!pipes.has(operation)) {
          issues.push({
            file: shown,
            code: 'CONFIG_REFERENCE',
            pointer: pointer('modules', m, 'config', 'tenant', t, 'allowedOperation', o),
            message: `operation "${operation}" has no pipe (expected ${main.pipes}/${operation}.json)`,
          });
        }
      });
      listener.tenants.set(tenant.id, {
        id: tenant.id,
        displayName: tenant.displayName ?? tenant.id,
        allowedOperations: new Set(tenant.allowedOperation),
      });
    });
  });
  return [...byId.values()].filter((l) => l.tenants.size > 0);
}
