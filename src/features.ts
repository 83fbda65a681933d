/**
 * Every config feature, registered once: each owns sections of the main file and may build
 * a service that valves find in Services (see src/config/feature.ts for the contract and a
 * worked example). Add a feature here and nowhere else. The order is the build order:
 * access groups check the directory's references, so they come after it.
 */
import { accessGroupsFeature } from './access-groups/feature.js';
import { operationsFeature } from './config/admin-schema.js';
import type { Feature } from './config/feature.js';
import { managementFeature } from './config/management-schema.js';
import { passwordChecksFeature } from './credentials/feature.js';
import { directoryFeature } from './directory/feature.js';
import { ldapFeature } from './idp/ldap-feature.js';
import { oidcFeature } from './oidc/feature.js';
import { otpDeliveryFeature } from './otp/feature.js';
import { outboundFeature } from './outbound/feature.js';
import { storeFeature } from './store/feature.js';
import { externalIssuersFeature } from './tokens/external-feature.js';
import { tokensFeature } from './tokens/feature.js';

export const features: readonly Feature<never>[] = [
  storeFeature,
  outboundFeature,
  otpDeliveryFeature,
  operationsFeature,
  managementFeature,
  passwordChecksFeature,
  directoryFeature,
  accessGroupsFeature,
  tokensFeature,
  externalIssuersFeature,
  ldapFeature,
  oidcFeature,
] as unknown as readonly Feature<never>[];
