/** Every connector, by connection type. One line per connector file; modules load on first use. */
import type { Connector } from "./types.ts";

const email = () => import("./email.ts").then((m) => m.emailConnector);
const slack = () => import("./slack.ts").then((m) => m.slackConnector);

export const connectorTypes: Record<string, () => Promise<Connector>> = {
  email,
  ses: email,
  slack,
};
