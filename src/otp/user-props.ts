/**
 * What a successful OTP or TOTP check puts on the item: the directory user's identity and
 * attributes, under the names token minting and responses use (`sub` is the user id).
 * The fixed names are written last so an attribute can never pose as `sub`.
 */
import type { DirectoryUser } from '../directory/directory.js';
import type { Props } from '../engine/props.js';
import type { PropertySet } from '../engine/dataflow.js';

export function putUser(props: Props, user: DirectoryUser): void {
  for (const [name, value] of Object.entries(user.attributes ?? {})) props[name] = value;
  props.sub = user.id;
  if (user.username !== undefined) props.username = user.username;
  if (user.mobile !== undefined) props.mobile = user.mobile;
  if (user.email !== undefined) props.email = user.email;
  if (user.access_group !== undefined) props.access_group = user.access_group;
}

/** A user who may sign in: present and not disabled. */
export function usable(user: DirectoryUser | undefined): user is DirectoryUser {
  return user !== undefined && user.status !== 'disabled';
}

/** What putUser sets, for the pipe check: sub always; the optional fields when the user has them (attributes are names from data). */
export const USER_SETS: readonly Omit<PropertySet, 'place'>[] = [
  { name: 'sub', kind: 'user.id' },
  { name: 'username', maybe: true, kind: 'user.username' },
  { name: 'mobile', maybe: true, kind: 'user.mobile' },
  { name: 'email', maybe: true, kind: 'user.email' },
  { name: 'access_group', maybe: true },
];
