import { createHash } from 'node:crypto';
import { readdirSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { compilePipes, type PipeFacts, type PipeSource } from '../engine/compile.js';
import type { CompiledPipe } from '../engine/pipe.js';
import { newAjv, type ValveRegistry } from '../engine/registry.js';
import type { Services } from '../engine/services.js';
import { noopAudit } from '../engine/audit.js';
import { noopMetrics } from '../engine/metrics.js';
import { ConfigRuntime } from '../engine/runtime.js';
import { ajvIssues } from '../config-kit/ajv-issues.js';
import { ConfigError, pointer, type ConfigIssue } from '../config-kit/issues.js';
import { readJsonFile, type FileOverlay } from '../config-kit/json-file.js';
import { mainSchema, type HttpConfiguration, type MainConfig } from './main-schema.js';
import { pipeSchema, type PipeConfig } from '../engine/pipe-schema.js';
import { referencePointers, resolveSecrets, SecretLedger, type SecretSources } from '../config-kit/secrets.js';
import { display } from './data-file.js';
import { buildConfigServices, checkCompiledFeatures } from './services.js';
import { invalidProxyEntry } from '../http/client-ip.js';
import { TENANT_PATTERN } from '../config-kit/patterns.js';
import { connectionCapsProblem } from './connection-schema.js';
import { checkPipes } from './pipe-check.js';

/**
 * Loads and validates the whole configuration: the main file, every pipe, every valve's own
 * config, and the cross references (allowedOperation without a pipe, pipe-call targets and
 * cycles). Either everything is valid and compiled, or a ConfigError lists every issue with
 * its file and JSON pointer. Nothing here touches the running server: reload swaps only a
 * fully loaded result. What the load builds that runs or must be released (delivery workers,
 * timers) is owned by its `runtime`: started only when the load succeeded and is not
 * read-only, closed with the config (closeConfigServices), and at once when the load fails.
 */

export interface Tenant {
  readonly id: string;
  readonly displayName: string;
  readonly allowedOperations: ReadonlySet<string>;
  /** The pipes this tenant's operations and login steps run: its own first, then the shared ones. */
  readonly pipes: ReadonlyMap<string, CompiledPipe>;
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
  /** The shared pipes (the pipes folder itself), the operator's. */
  readonly pipes: ReadonlyMap<string, CompiledPipe>;
  /** Each tenant's own pipes (pipes/<tenant>/), which its admins edit; tenants without any are absent. */
  readonly tenantPipes: ReadonlyMap<string, ReadonlyMap<string, CompiledPipe>>;
  readonly services: Services;
  /** What this config owns (workers, timers): started by a load that may serve, closed by closeConfigServices. */
  readonly runtime: ConfigRuntime;
  /** Every file read, for the reload watcher. */
  readonly files: readonly string[];
  /** Problems that did not stop the load but must be seen (config-kit/file-mode.ts, the pipe check's warnings). */
  readonly warnings: readonly ConfigIssue[];
  /** Every value a `${…}` reference resolved to: what a trace or message shows must pass through its `redact`. */
  readonly secrets: SecretLedger;
}

/** What a load needs from outside: the valves, and the services that outlive a reload. */
export interface LoadOptions {
  registry: ValveRegistry;
  /** Built from the main file on first use (the store type is configured there), then reused. */
  runtime: (main: MainConfig) => Pick<Services, 'store' | 'clock' | 'logger'> & Partial<Pick<Services, 'metrics' | 'audit'>>;
  env?: Readonly<Record<string, string | undefined>>;
  /** Check only: builders write nothing (see FeatureContext.readOnly), and nothing the load owns is started. */
  readOnly?: boolean;
  /** Texts that replace (or, null, delete) files on disk for this load: an admin change checked before it is written. */
  overlay?: FileOverlay;
}

// Defaults of every schema are applied here, once, as the files are validated.
const ajv = newAjv({ useDefaults: true });
const validateMain = ajv.compile(mainSchema);
const validatePipe = ajv.compile(pipeSchema);

/**
 * The load, with every issue and warning told as written: a message that quotes a value a
 * reference resolved to (a template error quoting the whole string) shows the `${…}`
 * reference instead, so no issue (validate, reload, an admin 422) carries file content.
 */
export function loadConfig(mainFile: string, options: LoadOptions): LoadedConfig {
  const secrets = new SecretLedger();
  const runtime = new ConfigRuntime();
  let loaded: LoadedConfig;
  try {
    loaded = loadWith(mainFile, options, secrets, runtime);
  } catch (err) {
    // Never started, so closing only drops what was built.
    void runtime.close().catch(() => undefined);
    if (err instanceof ConfigError) throw new ConfigError(secrets.redactIssues(err.issues));
    throw err;
  }
  if (!options.readOnly) runtime.start();
  return { ...loaded, warnings: secrets.redactIssues(loaded.warnings) };
}

function loadWith(mainFile: string, options: LoadOptions, secrets: SecretLedger, runtime: ConfigRuntime): LoadedConfig {
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
  const main = resolveSecrets(mainRead.value, display(file), { env, baseDir: dir, warnings, ledger: secrets }, issues) as MainConfig;
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
    secrets,
    hash: (text) => hash.update(text),
    watch: (f) => files.push(f),
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(overlay ? { overlay } : {}),
    own: (resource) => runtime.own(resource),
  });
  const services: Services = {
    metrics: noopMetrics,
    audit: noopAudit,
    ...options.runtime(main),
    ...configServices,
    configDir: dir,
    env,
    runtime,
  };
  const pipesDir = resolve(dir, main.pipes);
  const folders = readPipeFolders(pipesDir, issues, overlay);
  const sources = readPipes(folders.shared, { env, baseDir: folders.shared.dir, ledger: secrets }, issues, hash, overlay);
  const { pipes, calls, facts } = compilePipes(sources, options.registry, services, issues, warnings);
  checkPipeCalls(pipes, calls, issues);
  const declared = new Set(main.modules.flatMap((m) => m.config.tenant.map((t) => t.id)));
  const tenantPipes = new Map<string, ReadonlyMap<string, CompiledPipe>>();
  const tenantFacts = new Map<string, Map<string, PipeFacts>>();
  for (const [tenant, folder] of folders.tenants) {
    const shown = display(folder.dir);
    if (!declared.has(tenant)) {
      issues.push({
        file: shown,
        pointer: '',
        code: 'CONFIG_REFERENCE',
        message: `folder "${tenant}" names no tenant; expected one of ${[...declared].join(', ')}`,
      });
      continue;
    }
    // A tenant's pipes are written by its admins: no ${env:} or ${file:} is read for them.
    const own = readPipes(folder, null, issues, hash, overlay);
    sources.push(...own);
    const compiled = compilePipes(own, options.registry, services, issues, warnings, pipes);
    const visible = new Map([...pipes, ...compiled.pipes]);
    checkPipeCalls(visible, compiled.calls, issues);
    tenantPipes.set(tenant, compiled.pipes);
    tenantFacts.set(tenant, new Map([...facts, ...compiled.facts]));
  }
  checkCompiledFeatures({
    main,
    file: display(file),
    hasPipe: (tenant, id) => pipes.has(id) || (tenantPipes.get(tenant)?.has(id) ?? false),
    services,
    issues,
  });
  const listeners = buildListeners(main, file, pipes, tenantPipes, issues);
  // Following pipes is only meaningful once every valve compiled: a missing one would look like a missing property.
  if (issues.length === 0) {
    const operations = new Set(listeners.flatMap((l) => [...l.tenants.values()].flatMap((t) => [...t.allowedOperations])));
    checkPipes(facts, operations, issues, warnings);
    // A tenant's pipes are checked as its calls run them: its own over the shared ones.
    for (const view of tenantFacts.values()) checkPipes(view, operations, issues, warnings);
    dedupe(issues);
    dedupe(warnings);
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    version: hash.digest('hex').slice(0, 12),
    file,
    dir,
    main,
    listeners,
    pipes,
    tenantPipes,
    services,
    runtime,
    files: [...files, ...sources.map((s) => resolve(s.file))],
    warnings,
    secrets,
  };
}

interface PipeFolder {
  readonly dir: string;
  /** File names ending in .json, sorted. */
  readonly names: readonly string[];
}

/**
 * The shared pipes folder and its tenant folders (`pipes/<tenant>/`), each with the pipe
 * files it holds on disk as the overlay changes them: an admin's first pipe of a tenant
 * creates the folder.
 */
function readPipeFolders(
  pipesDir: string,
  issues: ConfigIssue[],
  overlay?: FileOverlay,
): { shared: PipeFolder; tenants: Map<string, PipeFolder> } {
  const files = new Map<string, Set<string>>([[pipesDir, new Set()]]);
  let entries: Dirent[];
  try {
    entries = readdirSync(pipesDir, { withFileTypes: true });
  } catch (err) {
    issues.push({
      file: display(pipesDir),
      pointer: '',
      code: 'CONFIG_READ',
      message: `cannot read the pipes folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    });
    return { shared: { dir: pipesDir, names: [] }, tenants: new Map() };
  }
  const folder = (dir: string) => files.get(dir) ?? (files.set(dir, new Set()).get(dir) as Set<string>);
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith('.json')) folder(pipesDir).add(entry.name);
    else if (entry.isDirectory() && TENANT.test(entry.name)) {
      const dir = join(pipesDir, entry.name);
      try {
        for (const name of readdirSync(dir)) if (name.endsWith('.json')) folder(dir).add(name);
      } catch (err) {
        issues.push({
          file: display(dir),
          pointer: '',
          code: 'CONFIG_READ',
          message: `cannot read the folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        });
      }
    }
  }
  for (const [path, text] of overlay ?? []) {
    const dir = dirname(path);
    if (!path.endsWith('.json') || (dir !== pipesDir && dirname(dir) !== pipesDir)) continue;
    if (dir !== pipesDir && !TENANT.test(basename(dir))) continue;
    if (text === null) files.get(dir)?.delete(basename(path));
    else folder(dir).add(basename(path));
  }
  const of = (dir: string): PipeFolder => ({ dir, names: [...(files.get(dir) ?? [])].sort() });
  const tenants = new Map<string, PipeFolder>();
  for (const dir of [...files.keys()].sort()) if (dir !== pipesDir && (files.get(dir)?.size ?? 0) > 0) tenants.set(basename(dir), of(dir));
  return { shared: of(pipesDir), tenants };
}

const TENANT = new RegExp(TENANT_PATTERN);

function readPipes(
  folder: PipeFolder,
  /** Where references resolve; null for a tenant's folder, where none may be written. */
  secretSources: SecretSources | null,
  issues: ConfigIssue[],
  hash: ReturnType<typeof createHash>,
  overlay?: FileOverlay,
): PipeSource[] {
  const sources: PipeSource[] = [];
  for (const name of folder.names) {
    const path = join(folder.dir, name);
    const shown = display(path);
    const parsed = readJsonFile(path, issues, overlay);
    if (!parsed) continue;
    hash.update(path).update(parsed.text);
    let config: PipeConfig;
    if (secretSources) config = resolveSecrets(parsed.value, shown, secretSources, issues) as PipeConfig;
    else {
      const found = [...new Set(referencePointers(parsed.value))];
      for (const at of found)
        issues.push({
          file: shown,
          pointer: at,
          code: 'CONFIG_SECRET',
          message:
            "a tenant's pipe cannot use ${env:} or ${file:}; secrets are read only in the operator's files (the main file, shared pipes, data files)",
        });
      if (found.length > 0) continue;
      config = parsed.value as PipeConfig;
    }
    if (!validatePipe(config)) {
      issues.push(...ajvIssues(shown, '', validatePipe.errors));
      continue;
    }
    const expected = basename(name, '.json');
    if (config.id !== expected) {
      issues.push({
        code: 'CONFIG_INVALID',
        file: shown,
        pointer: '/id',
        message: `pipe id "${config.id}" must equal the file name "${expected}"`,
      });
      continue;
    }
    sources.push({ file: shown, config });
  }
  return sources;
}

function dedupe(list: ConfigIssue[]): void {
  const seen = new Set<string>();
  const kept = list.filter((i) => {
    const key = `${i.file}\n${i.pointer}\n${i.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  list.splice(0, list.length, ...kept);
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
        issues.push({ code: 'CONFIG_INVALID', file: pipes.get(id)?.file ?? id, pointer: at, message: `pipe-call cycle: ${cycle}` });
      } else if (!state.has(target) && calls.has(target)) {
        visit(target, [...path, id]);
      }
    }
    state.set(id, 'done');
  };
  for (const id of calls.keys()) if (!state.has(id)) visit(id, []);
}

function buildListeners(
  main: MainConfig,
  file: string,
  shared: ReadonlyMap<string, CompiledPipe>,
  tenantPipes: ReadonlyMap<string, ReadonlyMap<string, CompiledPipe>>,
  issues: ConfigIssue[],
): Listener[] {
  const shown = display(file);
  const byId = new Map<string, { http: HttpConfiguration; tenants: Map<string, Tenant> }>();
  main.http_configuration.forEach((http, i) => {
    if (byId.has(http.id))
      issues.push({
        code: 'CONFIG_INVALID',
        file: shown,
        pointer: pointer('http_configuration', i, 'id'),
        message: `duplicate http configuration id "${http.id}"`,
      });
    http.trusted_proxies.forEach((entry, p) => {
      const problem = invalidProxyEntry(entry);
      if (problem)
        issues.push({
          code: 'CONFIG_INVALID',
          file: shown,
          pointer: pointer('http_configuration', i, 'trusted_proxies', p),
          message: problem,
        });
    });
    const caps = connectionCapsProblem(http);
    if (caps)
      issues.push({
        code: 'CONFIG_INVALID',
        file: shown,
        pointer: pointer('http_configuration', i, 'max_connections_per_address'),
        message: caps,
      });
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
          code: 'CONFIG_INVALID',
          file: shown,
          pointer: pointer('modules', m, 'config', 'tenant', t, 'id'),
          message: `tenant "${tenant.id}" is declared twice on this listener`,
        });
      }
      const own = tenantPipes.get(tenant.id);
      const pipes = own ? new Map([...shared, ...own]) : shared;
      tenant.allowedOperation.forEach((operation, o) => {
        if (!pipes.has(operation)) {
          issues.push({
            file: shown,
            code: 'CONFIG_REFERENCE',
            pointer: pointer('modules', m, 'config', 'tenant', t, 'allowedOperation', o),
            message: `operation "${operation}" has no pipe (expected ${main.pipes}/${operation}.json or ${main.pipes}/${tenant.id}/${operation}.json)`,
          });
        }
      });
      listener.tenants.set(tenant.id, {
        id: tenant.id,
        displayName: tenant.displayName ?? tenant.id,
        allowedOperations: new Set(tenant.allowedOperation),
        pipes,
      });
    });
  });
  return [...byId.values()].filter((l) => l.tenants.size > 0);
}
