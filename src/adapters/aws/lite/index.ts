/**
 * The lite path of the aws backend: the requests a dispatcher sends and those of a worker's per-job path,
 * without the SDK. See client.ts for which requests and for when it defers to the SDK.
 */
export { LiteService, LiteServiceError, regionalEndpoint, type LiteRoute } from "./client.ts";
export { LiteDynamoTableStore, marshalKey, unmarshalItem, unmarshalValue } from "./dynamo.ts";
export { LiteSqsQueuePort } from "./sqs.ts";
export { credentialSource, envCredentials, staticProfileCredentials } from "./credentials.ts";
export { loadProfile, parseIni, profileName } from "./profile.ts";
export { amzDate, signRequest, type Credentials } from "./sigv4.ts";
