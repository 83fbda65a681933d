/**
 * The console's client (management.console_client) may come back to the console at every
 * name the management listener answers for, besides the URIs its directory entry lists: the
 * console works at localhost as at 127.0.0.1, and at whatever port the listener got, without
 * the operator repeating each name in the directory. The names come from the main file and
 * the listener, never from a request, and are read at each check because the listener's port
 * is known only once it listens (after this provider may have been built).
 */
import type Provider from 'oidc-provider';

export const CONSOLE_CALLBACK = '/console/callback';
const CONSOLE_HOME = '/console';

export interface ConsoleClient {
  readonly clientId: string;
  /** The management listener's origins (`http://localhost:9090`). */
  origins(): readonly string[];
}

/** Whether `origin` may trade a code for the console: one of the management listener's names. */
export function consoleOrigin(console: ConsoleClient | undefined, clientId: string, origin: string): boolean {
  return console !== undefined && clientId === console.clientId && console.origins().includes(origin);
}

export function allowConsoleOrigins(provider: Provider, console: ConsoleClient): void {
  const prototype = provider.Client.prototype;
  const redirect = prototype.redirectUriAllowed;
  const postLogout = prototype.postLogoutRedirectUriAllowed;
  const atConsole = (clientId: string, uri: string, path: string) =>
    clientId === console.clientId && console.origins().some((origin) => `${origin}${path}` === uri);
  prototype.redirectUriAllowed = function redirectUriAllowed(this: { clientId: string }, uri: string): boolean {
    return redirect.call(this, uri) || atConsole(this.clientId, uri, CONSOLE_CALLBACK);
  };
  prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(this: { clientId: string }, uri: string): boolean {
    return postLogout.call(this, uri) || atConsole(this.clientId, uri, CONSOLE_HOME);
  };
}
