// Values the Node-side global setup hands to the tests running on workerd.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** the local stand-in for the customer Odoos */
    receiverUrl: string;
    /** a loopback port nothing listens on: an Odoo that is down */
    deadUrl: string;
  }
}
