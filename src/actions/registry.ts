/** Every action kind, by `action` name. One line per kind; each module loads on first use. */
import type { ActionKind } from "./types.ts";

export const actionKinds: Record<string, () => Promise<ActionKind>> = {
  dispatch: () => import("./dispatch.ts").then((m) => m.dispatchAction),
  email: () => import("./email.ts").then((m) => m.emailAction),
  event: () => import("./event.ts").then((m) => m.eventAction),
  log: () => import("./log.ts").then((m) => m.logAction),
  slack: () => import("./slack.ts").then((m) => m.slackAction),
  sns: () => import("./sns.ts").then((m) => m.snsAction),
  sqs: () => import("./sqs.ts").then((m) => m.sqsAction),
  state: () => import("./state.ts").then((m) => m.stateAction),
};
