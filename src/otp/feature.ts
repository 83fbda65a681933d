/**
 * OTP delivery as a service of the loaded config: `services.otpDelivery` holds this config's
 * delivery queues and their workers, one per distinct sender config (otp/delivery.ts). It owns
 * no main-file section; otp-issue valves ask it for the queue of their sender. The config's
 * runtime owns it: workers start only when the load may serve, and stop when it retires.
 */
import { defineFeature } from '../config/feature.js';
import { OtpDeliveries } from './delivery.js';

declare module '../engine/services.js' {
  interface FeatureServices {
    /** This config's OTP delivery queues; absent on hand-built services (otp-issue then owns its own). */
    readonly otpDelivery?: OtpDeliveries;
  }
}

export const otpDeliveryFeature = defineFeature({
  name: 'otp-delivery',
  sections: {},
  service: 'otpDelivery',
  build: (ctx) => ctx.own(new OtpDeliveries()),
});
